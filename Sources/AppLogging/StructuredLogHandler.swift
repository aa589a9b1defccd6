import Foundation
import Logging
import Synchronization

/// Where formatted log lines go. Standard error in production, memory in tests.
public protocol LogSink: Sendable {
    func write(_ line: String)
}

/// Writes each line to standard error with one `write` call, so lines never interleave.
public struct StandardErrorSink: LogSink {
    public init() {}
    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = Foundation.write(2, base + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// Keeps lines in memory; for tests and for capturing a command's log.
public final class MemorySink: LogSink {
    private let storage = Mutex<[String]>([])
    public init() {}
    public func write(_ line: String) { storage.withLock { $0.append(line) } }
    public var lines: [String] { storage.withLock { $0 } }
}

/// A swift-log handler printing one line per event as logfmt (`time=… level=info msg="…"
/// event.id=…`) or JSON, with secrets redacted from the message and every metadata value.
public struct StructuredLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case logfmt, json }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: Format
    private let redactor: Redactor
    private let sink: any LogSink

    public init(
        label: String, format: Format, level: Logger.Level, redactor: Redactor = Redactor(), sink: any LogSink = StandardErrorSink()
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.redactor = redactor
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var fields: [(String, String)] = [
            ("time", Self.timestamp()), ("level", event.level.rawValue), ("logger", label),
            ("msg", redactor.redact(event.message.description)),
        ]
        if let error = event.error { fields.append(("error", redactor.redact("\(error)"))) }
        // Numbers given as numbers (`.stringConvertible(count)`) stay numbers in JSON.
        var numbers: Set<String> = []
        for key in merged.keys.sorted() {
            if case .stringConvertible(let value) = merged[key], value is any BinaryInteger || value is Double || value is Bool {
                numbers.insert(key)
                fields.append((key, "\(value)"))
                continue
            }
            let value = merged[key].map { "\($0)" } ?? ""
            fields.append((key, Redactor.isSecretKey(key) ? Redactor.mask : redactor.redact(value)))
        }
        sink.write(format == .json ? Self.json(fields, numbers: numbers) : Self.logfmt(fields))
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
            return needsQuotes ? "\(key)=\(quoted(value))" : "\(key)=\(value)"
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)], numbers: Set<String> = []) -> String {
        "{" + fields.map { "\(quoted($0.0)):\(numbers.contains($0.0) ? $0.1 : quoted($0.1))" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal (also valid logfmt quoting).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
