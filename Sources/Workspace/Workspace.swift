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
    ///
    /// The shallow levels are listed first; the subtrees below them are then walked, read,
    /// screened and parsed in parallel, a file at a time, so both the walk and the reads use
    /// every core.
    public func scan(image: ImageName?) throws(WorkspaceError) -> ScanReport {
        let walker = DirectoryWalker(root: root)
        try walker.checkRoot()
        let (shallow, pending) = walker.frontier(width: 64)
        let scanner = FileScanner(workspace: self, image: image)

        var report = ScanReport()
        var results: [FileScanner.Outcome] = []
        for file in shallow.files where included(file.path) { results.append(scanner.scan(file)) }
        let skipped = Mutex<[SkippedPath]>(shallow.skipped)
        let deep = Mutex<[FileScanner.Outcome]>([])
        let chunks = Self.chunks(pending.count)
        DispatchQueue.concurrentPerform(iterations: chunks.count) { chunk in
            var local: [FileScanner.Outcome] = []
            var localSkipped: [SkippedPath] = []
            for directory in pending[chunks[chunk]] {
                walker.walk(directory) { file in
                    if included(file.path) { local.append(scanner.scan(file)) }
                } skipped: { path in
                    if included(path.path) { localSkipped.append(path) }
                }
            }
            deep.withLock { $0 += local }
            skipped.withLock { $0 += localSkipped }
        }
        results += deep.withLock { $0 }
        report.filesConsidered = results.count
        report.filesParsed = results.filter(\.parsed).count
        report.skipped = skipped.withLock { $0 }.map { SkippedFile(file: $0.path, reason: $0.reason) }
        for outcome in results.sorted(by: { $0.file < $1.file }) {
            guard let result = outcome.result else { continue }
            report.references += result.references
            if let skipped = result.skipped { report.skipped.append(skipped) }
            report.problems += result.problems
        }
        report.skipped.sort { $0.file < $1.file }
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
