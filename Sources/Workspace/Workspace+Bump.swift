import Manifests

/// The outcome of a bump across a directory.
public struct BumpReport: Sendable {
    /// One entry per file that references the image, changed or not.
    public var updates: [FileUpdate] = []
    public var skipped: [SkippedFile] = []
    public var problems: [MarkerProblem] = []
    /// Files whose edit was refused, or with a reference that could not be written, with the
    /// reason; everything else was written.
    public var refused: [(file: String, reason: String)] = []

    public var changedFiles: [FileUpdate] { updates.filter(\.isChanged) }
    public var changes: [Change] { updates.flatMap(\.changes) }
    /// True when references were found and every one already had the requested tag.
    public var isUpToDate: Bool { changedFiles.isEmpty && updates.contains { !$0.upToDate.isEmpty } }
}

extension Workspace {
    /// Rewrites every reference to the request's image. All edits are computed and verified
    /// before the first file is written; a file whose edit is refused is left untouched and
    /// reported (``BumpReport/refused``), and never blocks the others.
    public func bump(_ request: BumpRequest, dryRun: Bool) throws -> BumpReport {
        let scan = try scan(image: request.image)
        let updater = ManifestUpdater(extractor: ReferenceExtractor(options: options.extraction))
        var report = BumpReport(skipped: scan.skipped, problems: scan.problems)
        for file in Set(scan.references.map(\.file)).sorted() {
            let bytes = try FileIO.readAll("\(root)/\(file)")
            do {
                let update = try updater.update(file: file, bytes: bytes, request: request)
                report.updates.append(update)
                // Its other references are written; these are reported as not written.
                for alone in update.unwritable { report.refused.append((file, "line \(alone.reference.line): \(alone.reason)")) }
            } catch {
                report.refused.append((file, error.detail))
            }
        }
        if !dryRun {
            for update in report.changedFiles { try FileIO.replace("\(root)/\(update.file)", with: update.updated) }
        }
        return report
    }
}
