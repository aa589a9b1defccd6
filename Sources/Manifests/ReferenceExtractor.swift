import ImageReference
import Yams

/// Settings that change what counts as a reference.
public struct ExtractionOptions: Sendable, Hashable {
    /// Flux `$imagepolicy` names (`namespace:policy`) and the image each stands for.
    public var fluxPolicies: [String: ImageName]
    /// Upper bound on YAML nodes walked in one file (bounds alias bombs and huge files).
    public var maximumNodes: Int

    public init(fluxPolicies: [String: ImageName] = [:], maximumNodes: Int = 200_000) {
        self.fluxPolicies = fluxPolicies
        self.maximumNodes = maximumNodes
    }
}

/// Finds image references in one file's bytes. Pure: no file system, no clock.
///
/// YAML files (`.yaml`, `.yml`) are parsed; every file is searched for marker comments, so a
/// value in any file type can be managed. A file that cannot be read as YAML is reported as
/// skipped with the reason, never fatal.
public struct ReferenceExtractor: Sendable {
    public let options: ExtractionOptions

    public init(options: ExtractionOptions = ExtractionOptions()) {
        self.options = options
    }

    /// Whether a path is parsed as YAML (others are searched for markers only).
    public static func isYAML(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml")
    }

    /// A file in a Helm chart's `templates/` directory (rendered by Helm, not applied as it is).
    static func isChartTemplate(_ path: String) -> Bool {
        path.hasPrefix("templates/") || path.contains("/templates/")
    }

    /// Every reference in the file, to any image, sorted by line and column.
    public func extract(file: String, bytes: [UInt8]) -> ExtractionResult {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return ExtractionResult(file: file, skipped: "not UTF-8 text")
        }
        let source = SourceText(bytes)
        var (markers, problems) = MarkerScanner.scan(source, file: file, fluxPolicies: options.fluxPolicies)
        var result = ExtractionResult(file: file)
        var markerValues: [Int: LocatedScalar] = [:]

        let templated = ByteSearch.firstRange(of: Array("{{".utf8), in: bytes) != nil
        if Self.isYAML(file) {
            if templated, Self.isChartTemplate(file) {
                // A chart's template: its YAML is not the YAML that gets applied.
                if markers.isEmpty { result.skipped = SkippedFile(file: file, reason: "a Helm chart template ({{ }} under templates/)") }
                for marker in markers { markerValues[marker.line] = MarkerScanner.textualValue(source, marker) }
            } else {
                // Any other file that parses as YAML is read as YAML, whatever its strings and
                // comments hold (`{{ }}` in a comment or a quoted value of Helm values, a
                // HelmRelease's templated strings); only one that does not parse is skipped.
                var walker = YAMLWalker(source: source, file: file, markerLines: Set(markers.map(\.line)), nodeBudget: options.maximumNodes)
                do {
                    let body = source.bodyStart == 0 ? text : String(text.unicodeScalars.dropFirst())
                    // No implicit typing: every scalar is read as its text (what the walker
                    // looks at), without the default resolver's regular expressions per scalar.
                    // The encoding named: Yams' default reads the whole environment per parser
                    // (a fifth of `scan --all`).
                    let parser = try Parser(yaml: body, resolver: .basic, encoding: .utf8)
                    while let root = try parser.nextRoot() { try walker.walk(root) }
                } catch is YAMLWalker.BudgetExceeded {
                    return ExtractionResult(file: file, skipped: "more than \(options.maximumNodes) YAML nodes (an alias bomb?)")
                } catch {
                    let reason = (error as? YamlError).map(Self.describe) ?? "\(error)"
                    guard templated else { return ExtractionResult(file: file, skipped: "invalid YAML: \(reason)", problems: problems) }
                    // A Go/Helm template that is not YAML: markers still work.
                    if markers.isEmpty {
                        return ExtractionResult(file: file, skipped: "a Helm/Go template ({{ }}) that is not YAML (\(reason))", problems: problems)
                    }
                    walker = YAMLWalker(source: source, file: file, markerLines: [], nodeBudget: options.maximumNodes)
                    for marker in markers { walker.markerValues[marker.line] = MarkerScanner.textualValue(source, marker) }
                }
                result.references = walker.references
                markerValues = walker.markerValues
                markers.removeAll { walker.markerLinesInBlocks.contains($0.line) }
                problems.removeAll { walker.markerLinesInBlocks.contains($0.line) }
            }
        } else {
            for marker in markers { markerValues[marker.line] = MarkerScanner.textualValue(source, marker) }
        }

        let marked = MarkedReferences.build(markers, values: markerValues, source: source, file: file)
        result.problems = problems + marked.problems
        // A marker is explicit: it replaces a structural find of the same bytes.
        let markedRanges = Set(marked.references.flatMap { $0.slots.map(\.range) })
        result.references.removeAll { $0.slots.contains { markedRanges.contains($0.range) } }
        result.references += marked.references
        result.references = Self.deduplicated(result.references)
        return result
    }

    /// The references to one image in the file.
    public func extract(file: String, bytes: [UInt8], image: ImageName) -> ExtractionResult {
        var result = extract(file: file, bytes: bytes)
        result.references.removeAll { $0.image != image }
        return result
    }

    static func deduplicated(_ references: [Reference]) -> [Reference] {
        var seen: Set<Reference> = []
        return references.filter { seen.insert($0).inserted }.sorted {
            ($0.line, $0.column, $0.image.description) < ($1.line, $1.column, $1.image.description)
        }
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return "\(problem)\(context.map { " \($0.text)" } ?? "") at line \(mark.line), column \(mark.column)"
        case .composer(let context, let problem, let mark, _):
            return "\(problem)\(context.map { " \($0.text)" } ?? "") at line \(mark.line), column \(mark.column)"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "unreadable"
        }
    }
}

/// What extraction found in one file: references, whether it was passed over, marker problems.
public struct ExtractionResult: Sendable, Hashable {
    public let file: String
    public var references: [Reference] = []
    public var skipped: SkippedFile?
    public var problems: [MarkerProblem] = []

    init(file: String, references: [Reference] = [], problems: [MarkerProblem] = []) {
        self.file = file
        self.references = references
        self.problems = problems
    }

    /// A file passed over as a whole, for a reason found outside extraction (size, I/O).
    public static func skipped(_ file: String, _ reason: String) -> ExtractionResult {
        ExtractionResult(file: file, skipped: reason)
    }

    init(file: String, skipped reason: String, problems: [MarkerProblem] = []) {
        self.file = file
        self.skipped = SkippedFile(file: file, reason: reason)
        self.problems = problems
    }
}
