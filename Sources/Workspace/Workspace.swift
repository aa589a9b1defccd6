import Dispatch
import ImageReference
import Manifests
import Synchronization

/// Which files of a working directory take part, and how they are read.
public struct WorkspaceOptions: Sendable {
    /// Only paths matching one of these take part; empty means every file.
    public var paths: [PathGlob]
    /// Files larger than this are passed over (reported for YAML files).
    public var maximumFileSize: Int
    public var extraction: ExtractionOptions

    public init(paths: [PathGlob] = [], maximumFileSize: Int = 1 << 20, extraction: ExtractionOptions = ExtractionOptions()) {
        self.paths = paths
        self.maximumFileSize = maximumFileSize
        self.extraction = extraction
    }
}

/// What a scan found across a directory.
public struct ScanReport: Sendable {
    /// Sorted by file, then line, then column.
    public var references: [Reference] = []
    public var skipped: [SkippedFile] = []
    public var problems: [MarkerProblem] = []
    /// Files that passed the path filter, and how many of those were parsed after screening.
    public var filesConsidered = 0
    public var filesParsed = 0
}

/// A directory holding an environment repository's files: scanned for references, and
/// bumped in place. Paths never leave `root`.
public struct Workspace: Sendable {
    public let root: String
    public let options: WorkspaceOptions

    public init(root: String, options: WorkspaceOptions = WorkspaceOptions()) {
        self.root = DirectoryWalker(root: root).root
        self.options = options
    }

    /// Every reference to `image`, or to any image when `image` is nil.
    public func scan(image: ImageName?) throws(WorkspaceError) -> ScanReport {
        let extractor = ReferenceExtractor(options: options.extraction)
        let screen = image.map { ReferenceScreen(image: $0, options: options.extraction) }
        let (files, links) = try DirectoryWalker(root: root).walk(include: included)
        var report = ScanReport()
        report.filesConsidered = files.count
        report.skipped = links.map { SkippedFile(file: $0.0, reason: $0.1) }

        let results = Mutex<[ExtractionResult]>([])
        let parsed = Atomic<Int>(0)
        let chunks = Self.chunks(files.count)
        let root = root
        let maximumFileSize = options.maximumFileSize
        DispatchQueue.concurrentPerform(iterations: chunks.count) { chunk in
            var local: [ExtractionResult] = []
            for file in files[chunks[chunk]] {
                let isYAML = ReferenceExtractor.isYAML(file.path)
                if file.size > maximumFileSize {
                    if isYAML { local.append(ExtractionResult.skipped(file.path, "larger than \(maximumFileSize) bytes")) }
                    continue
                }
                let bytes: [UInt8]
                do throws(WorkspaceError) {
                    bytes = try FileIO.read("\(root)/\(file.path)", size: file.size)
                } catch {
                    local.append(ExtractionResult.skipped(file.path, error.detail))
                    continue
                }
                let relevant = bytes.withUnsafeBytes { buffer in
                    if let screen { return screen.mightReference(buffer) }
                    return isYAML || ReferenceScreen.anyMarker.mightReference(buffer)
                }
                guard relevant else { continue }
                parsed.add(1, ordering: .relaxed)
                let result =
                    image.map { extractor.extract(file: file.path, bytes: bytes, image: $0) }
                    ?? extractor.extract(file: file.path, bytes: bytes)
                if !result.references.isEmpty || result.skipped != nil || !result.problems.isEmpty { local.append(result) }
            }
            results.withLock { $0 += local }
        }
        for result in results.withLock({ $0 }).sorted(by: { $0.file < $1.file }) {
            report.references += result.references
            if let skipped = result.skipped { report.skipped.append(skipped) }
            report.problems += result.problems
        }
        report.skipped.sort { $0.file < $1.file }
        report.filesParsed = parsed.load(ordering: .relaxed)
        return report
    }

    /// Whether a relative path passes the configured path patterns.
    func included(_ path: String) -> Bool {
        options.paths.isEmpty || options.paths.contains { $0.matches(path) }
    }

    /// Contiguous index ranges, a few per core, so that a slow file does not idle a core.
    static func chunks(_ count: Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let pieces = min(count, 64)
        return (0..<pieces).map { piece in (count * piece / pieces)..<(count * (piece + 1) / pieces) }
    }
}
