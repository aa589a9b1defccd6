import ImageReference
import Manifests

/// Reads, screens and extracts one file of a workspace.
struct FileScanner: Sendable {
    /// What scanning one file gave; `result` is nil when the file holds nothing of interest.
    struct Outcome: Sendable {
        let file: String
        let parsed: Bool
        let result: ExtractionResult?
    }

    let root: String
    let image: ImageName?
    let maximumFileSize: Int
    let extractor: ReferenceExtractor
    let screen: ReferenceScreen?

    init(workspace: Workspace, image: ImageName?) {
        root = workspace.root
        self.image = image
        maximumFileSize = workspace.options.maximumFileSize
        extractor = ReferenceExtractor(options: workspace.options.extraction)
        screen = image.map { ReferenceScreen(image: $0, options: workspace.options.extraction) }
    }

    func scan(_ file: WalkedFile) -> Outcome {
        let isYAML = ReferenceExtractor.isYAML(file.path)
        let bytes: [UInt8]
        do {
            switch try FileIO.read("\(root)/\(file.path)", limit: maximumFileSize) {
            case .bytes(let contents): bytes = contents
            case .tooLarge:
                let result = isYAML ? ExtractionResult.skipped(file.path, "larger than \(maximumFileSize) bytes") : nil
                return Outcome(file: file.path, parsed: false, result: result)
            }
        } catch {
            return Outcome(file: file.path, parsed: false, result: .skipped(file.path, error.detail))
        }
        // Screen before parsing: a file without the image's name cannot reference it.
        let relevant = bytes.withUnsafeBytes { buffer in
            if let screen { return screen.mightReference(buffer) }
            return isYAML ? KeyScreen.mightHoldAnyReference(buffer) : ReferenceScreen.anyMarker.mightReference(buffer)
        }
        guard relevant else { return Outcome(file: file.path, parsed: false, result: nil) }
        let result =
            image.map { extractor.extract(file: file.path, bytes: bytes, image: $0) } ?? extractor.extract(file: file.path, bytes: bytes)
        let interesting = !result.references.isEmpty || result.skipped != nil || !result.problems.isEmpty
        return Outcome(file: file.path, parsed: true, result: interesting ? result : nil)
    }
}
