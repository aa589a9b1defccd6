import ArgumentParser
import ImageReference
import Logging
import Manifests
import Workspace

/// `imagebump scan IMAGE`: list every reference to an image (or to all images).
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List every reference to an image in a directory.",
        discussion: "JSON output is one object per line, sorted by file then line."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "The image repository, e.g. ghcr.io/acme/api (any spelling; it is normalised).")
    var image: String?

    @Flag(name: .long, help: "List references to every image.")
    var all = false

    @Option(name: .long, help: "text or json.")
    var format: Format = .text

    @Flag(name: .long, help: "Name every skipped file (by default: a summary per reason, with the first few).")
    var verbose = false

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard all != (image != nil) else { throw ValidationError("name an IMAGE or pass --all (not both)") }
        if let image {
            do { _ = try ImageName(parsing: image) } catch { throw ValidationError(error.description) }
        }
    }

    func run() throws {
        let (configuration, logger) = try global.load(label: "imagebump.scan")
        let name = try image.map { text throws(ImageReferenceError) in try ImageName(parsing: text) }
        let report: ScanReport
        do { report = try directory.workspace(configuration).scan(image: name) } catch {
            logger.error("scan failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        for line in SkippedSummary.lines(report.skipped, all: verbose) { logger.notice("\(line)") }
        for problem in report.problems {
            logger.warning(
                "marker not used", metadata: ["file": "\(problem.file)", "line": .stringConvertible(problem.line), "reason": "\(problem.message)"])
        }
        emit(report.references.map { format == .json ? ReferenceOutput.json($0) : ReferenceOutput.text($0) }.joined())
        logger.debug(
            "scan done",
            metadata: [
                "files.considered": .stringConvertible(report.filesConsidered), "files.parsed": .stringConvertible(report.filesParsed),
                "references": .stringConvertible(report.references.count),
            ])
    }
}

/// The printed forms of a reference.
enum ReferenceOutput {
    /// `envs/dev/api.yaml:14:8 helm-values ghcr.io/acme/api:1.4.2`
    static func text(_ reference: Reference) -> String {
        let value = ImageReference(name: reference.image, tag: reference.tag, digest: reference.digest)
        let note =
            reference.isEditable
            ? "" : reference.tag == nil && reference.digest == nil ? " (not editable: no tag or digest)" : " (not editable: escaped or multi-line)"
        return "\(reference.file):\(reference.line):\(reference.column) \(reference.kind.rawValue) \(value)\(note)\n"
    }

    /// One JSON object per line, keys in the documented order.
    static func json(_ reference: Reference) -> String {
        func string(_ value: String?) -> String {
            guard let value else { return "null" }
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        return "{\"file\": \(string(reference.file)), \"line\": \(reference.line), \"column\": \(reference.column), "
            + "\"nameLine\": \(reference.nameLine), \"kind\": \(string(reference.kind.rawValue)), "
            + "\"image\": \(string(reference.image.description)), \"tag\": \(string(reference.tag)), "
            + "\"digest\": \(string(reference.digest?.description))}\n"
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Skipped files told by reason, not one line each (a chart repository skips thousands):
/// "skipped 143 files: a Helm chart template ({{ }} under templates/) — templates/a.yaml, …".
enum SkippedSummary {
    static func lines(_ skipped: [SkippedFile], all: Bool, first: Int = 3) -> [String] {
        let byReason = Dictionary(grouping: skipped) { Self.kind($0.reason) }
        return byReason.keys.sorted().map { reason in
            let files = byReason[reason, default: []].map(\.file).sorted()
            let shown = all ? files : Array(files.prefix(first))
            let more = files.count > shown.count ? ", … (\(files.count - shown.count) more; --verbose names them)" : ""
            return "skipped \(files.count) file\(files.count == 1 ? "" : "s"): \(reason) — \(shown.joined(separator: ", "))\(more)"
        }
    }

    /// A reason without its file-specific detail (`invalid YAML: … at line 3` → `invalid YAML`).
    static func kind(_ reason: String) -> String {
        for prefix in ["invalid YAML", "a Helm/Go template ({{ }}) that is not YAML", "more than"] where reason.hasPrefix(prefix) {
            return prefix == "more than" ? "too many YAML nodes" : prefix
        }
        return reason
    }
}
