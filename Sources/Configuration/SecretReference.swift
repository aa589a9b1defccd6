import Foundation

/// Where a secret comes from. Secrets are never written in the configuration file itself:
/// `env:NAME` reads an environment variable, `file:PATH` a file (trailing newline dropped).
public enum SecretReference: Sendable, Hashable, CustomStringConvertible {
    case environment(String)
    case file(String)

    /// Parses `env:NAME` or `file:PATH`; nil for anything else (a literal secret).
    public init?(_ text: String) {
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard let first = name.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first),
                name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) })
            else { return nil }
            self = .environment(name)
        } else if text.hasPrefix("file:"), text.count > 5 {
            self = .file(String(text.dropFirst(5)))
        } else {
            return nil
        }
    }

    /// Says where the secret lives, never what it is.
    public var description: String {
        switch self {
        case .environment(let name): "env:\(name)"
        case .file(let path): "file:\(path)"
        }
    }

    /// Reads the secret now.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretError) -> Secret {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw SecretError(
                    reference: self, reason: "the environment variable \(name) is not set; export it before starting imagebump")
            }
            return Secret(value)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SecretError(reference: self, reason: "the file \(path) cannot be read; check that it exists and is readable")
            }
            var value = String(decoding: data, as: UTF8.self)
            while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
            guard !value.isEmpty else { throw SecretError(reference: self, reason: "the file \(path) is empty") }
            return Secret(value)
        }
    }
}

/// A secret's value. It prints as `[REDACTED]` so it cannot leak through logs or errors.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value itself, for the one place that must send it (an HTTP header, a Git credential).
    public let revealed: String

    public init(_ value: String) { revealed = value }

    public var description: String { "[REDACTED]" }
    public var debugDescription: String { "[REDACTED]" }
}

/// A secret that cannot be read.
public struct SecretError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reference: SecretReference
    public let reason: String
    public var description: String { "secret \(reference): \(reason)" }
}
