import Foundation
/// "A merge request imagebump opened was merged (or closed)": what forges' merge request
/// webhooks are reduced to. imagebump's requests carry a hidden marker
/// `<!-- imagebump:target=T image=I -->` in their body, which names the environment and image.
public struct MergeNotice: Sendable, Hashable {
    public let target: String
    /// `registry/repository`.
    public let image: String
    public let number: Int
    /// False when the request was closed without merging.
    public let merged: Bool
    /// The update branch (`imagebump/T/…`).
    public let branch: String
    /// The commit the request ended with (its head); the branch is deleted only while it is there.
    public let headCommit: String?

    public init(target: String, image: String, number: Int, merged: Bool, branch: String, headCommit: String? = nil) {
        self.target = target
        self.image = image
        self.number = number
        self.merged = merged
        self.branch = branch
        self.headCommit = headCommit
    }

    /// Reads a merge request event of GitHub (`X-GitHub-Event: pull_request`), GitLab
    /// (`object_kind: merge_request`) or Gitea/Forgejo (`X-Gitea-Event: pull_request`); nil when
    /// the delivery is not one (it is then read as an image event).
    static func decode(_ type: ReceiverType, headers: [String: String], body: [UInt8]) throws(PayloadError) -> DecodedDelivery? {
        switch type {
        case .github where headers["x-github-event"] == "pull_request",
            .gitea where (headers["x-gitea-event"] ?? headers["x-forgejo-event"]) == "pull_request":
            let object = try Payload.object(body)
            let action = Payload.string(object["action"]) ?? ""
            let pull = Payload.dictionary(object["pull_request"])
            guard action == "closed" else { return .ignored("pull request \(action): only merged or closed ones matter") }
            let head = Payload.dictionary(pull["head"])
            return notice(
                body: Payload.string(pull["body"]), number: Payload.integer(pull["number"] ?? object["number"]),
                merged: Payload.bool(pull["merged"]), branch: Payload.string(head["ref"]), headCommit: Payload.string(head["sha"]))
        case .gitlab:
            let object = try Payload.object(body)
            guard Payload.string(object["object_kind"]) == "merge_request" else { return nil }
            let attributes = Payload.dictionary(object["object_attributes"])
            let action = Payload.string(attributes["action"]) ?? ""
            guard action == "merge" || action == "close" else {
                return .ignored("merge request \(action): only merged or closed ones matter")
            }
            return notice(
                body: Payload.string(attributes["description"]), number: Payload.integer(attributes["iid"]), merged: action == "merge",
                branch: Payload.string(attributes["source_branch"]),
                headCommit: Payload.string(Payload.dictionary(attributes["last_commit"])["id"]))
        default:
            return nil
        }
    }

    static func notice(body: String?, number: Int?, merged: Bool, branch: String?, headCommit: String?) -> DecodedDelivery {
        guard let body, let start = body.range(of: "<!-- imagebump:target="), let end = body[start.upperBound...].range(of: " -->")
        else { return .ignored("a merge request imagebump did not open") }
        let fields = body[start.upperBound..<end.lowerBound].split(separator: " ")
        guard fields.count == 2, fields[1].hasPrefix("image=") else { return .ignored("a merge request with a malformed imagebump marker") }
        return .merged(
            MergeNotice(
                target: String(fields[0]), image: String(fields[1].dropFirst(6)), number: number ?? 0, merged: merged,
                branch: branch ?? "", headCommit: headCommit))
    }
}
