import ImageReference
import Forge
import Manifests

/// What imagebump's merge requests say: a title like `Bump ghcr.io/acme/api to 1.4.2 in acc`,
/// a table of every changed line, and a hidden marker that identifies the request as ours.
/// The text depends only on the bump, so a replay renders the same request.
public struct MergeRequestOptions: Sendable, Hashable {
    public var labels: [String] = []
    public var reviewers: [String] = []
    public var autoMerge = false
    public var draft = false
    public var mergeMethod = MergeMethod.merge

    public init(labels: [String] = [], reviewers: [String] = [], autoMerge: Bool = false, draft: Bool = false, mergeMethod: MergeMethod = .merge) {
        self.labels = labels
        self.reviewers = reviewers
        self.autoMerge = autoMerge
        self.draft = draft
        self.mergeMethod = mergeMethod
    }
}

/// The event that asked for a bump, as the merge request shows it.
public struct Trigger: Sendable, Hashable {
    public var source: String
    public var time: String
    public var eventID: String

    public init(source: String, time: String, eventID: String) {
        self.source = source
        self.time = time
        self.eventID = eventID
    }
}

enum MergeRequestTemplate {
    static let triggerPrefix = "Triggered by "

    static func marker(target: String, image: String) -> String { "<!-- imagebump:target=\(target) image=\(image) -->" }

    static func content(
        request: BumpRequest, target: GitTarget, branch: String, changes: [Change], options: MergeRequestOptions, trigger: Trigger
    ) -> MergeRequestContent {
        let tag = request.tag ?? request.digest.map { String($0.description.prefix(19)) } ?? ""
        let marker = marker(target: target.name, image: request.image.description)
        var rows = ["| File | Line | Old | New |", "| --- | --- | --- | --- |"]
        for change in changes {
            let old = [change.oldTag, change.oldDigest.map { "@\($0)" }].compactMap { $0 }.joined()
            let new = [change.newTag, change.newDigest.map { "@\($0)" }].compactMap { $0 }.joined()
            rows.append("| `\(change.file)` | \(change.line) | `\(old)` | `\(new)` |")
        }
        let body = """
            imagebump moves `\(request.image)` to `\(request)` in **\(target.name)** (`\(target.location)` on `\(target.branch)`).

            \(rows.joined(separator: "\n"))

            \(triggerPrefix)\(trigger.source) at \(trigger.time) (event `\(trigger.eventID)`)\(request.digest.map { ", digest `\($0)`" } ?? "").

            This merge request is kept up to date by imagebump: a newer tag replaces its commit. \
            Commits pushed here by a person stop imagebump from touching the branch.

            \(marker)
            """
        var content = MergeRequestContent(
            title: "Bump \(request.image) to \(tag) in \(target.name)", body: body, head: branch, base: target.branch, marker: marker)
        content.volatileLinePrefix = triggerPrefix
        content.labels = options.labels
        content.reviewers = options.reviewers
        content.autoMerge = options.autoMerge
        content.draft = options.draft
        content.mergeMethod = options.mergeMethod
        return content
    }
}
