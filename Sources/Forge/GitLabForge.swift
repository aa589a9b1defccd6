import Foundation
import HTTPClient
import Synchronization

/// GitLab REST v4 (gitlab.com or self-managed `https://HOST/api/v4`); the project is its id or
/// path. The transport carries `PRIVATE-TOKEN`.
public struct GitLabForge: Forge {
    let http: ForgeHTTP
    let project: String
    let sleep: @Sendable (Duration) async -> Void
    /// The server's version, read once (`GET /version`): what the merge call may send.
    private let version = ServerVersion()

    /// `GET /version`'s answer, kept for the forge's life.
    final class ServerVersion: Sendable {
        let known = Mutex<(major: Int, minor: Int)?>(nil)
    }

    public init(
        transport: any HTTPTransport, apiBaseURL: String = "https://gitlab.com/api/v4", project: String,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        http = ForgeHTTP(transport: transport, baseURL: apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL)
        self.project = project
        self.sleep = sleep
    }

    var projectPath: String { "/projects/\(ForgeHTTP.segment(project))" }

    public func findOpenMergeRequest(head: String, base: String, marker: String) async throws(ForgeError) -> MergeRequest? {
        let filtered = try await http.list(
            "find merge request",
            "\(projectPath)/merge_requests?state=opened&source_branch=\(ForgeHTTP.query(head))&target_branch=\(ForgeHTTP.query(base))&per_page=100"
        )
        if let found = filtered.first { return Self.parse(found) }
        let open = try await http.list("list merge requests", "\(projectPath)/merge_requests?state=opened&per_page=100")
        return open.first { ($0["description"] as? String)?.contains(marker) == true }.map(Self.parse)
    }

    public func openMergeRequest(_ content: MergeRequestContent) async throws(ForgeError) -> MergeRequest {
        var fields: [String: Any] = [
            "source_branch": content.head, "target_branch": content.base,
            "title": content.draft ? "Draft: \(content.title)" : content.title,
            "description": content.body, "remove_source_branch": content.removeSourceBranch,
        ]
        if !content.labels.isEmpty { fields["labels"] = content.labels }
        do {
            return Self.parse(try await http.object("create merge request", "POST", "\(projectPath)/merge_requests", json: fields))
        } catch  where error.code == .conflict {
            // {"message":["Another open merge request already exists for this source branch: !1"]}
            let number = error.message.split(separator: "!").last.flatMap { Int($0.prefix { $0.isNumber }) }
            throw ForgeError(.alreadyExists, operation: error.operation, status: error.status, message: error.message, existing: number)
        }
    }

    public func updateMergeRequest(_ number: Int, title: String, body: String) async throws(ForgeError) -> MergeRequest {
        Self.parse(
            try await http.object(
                "update merge request !\(number)", "PUT", "\(projectPath)/merge_requests/\(number)",
                json: ["title": title, "description": body]))
    }

    public func addLabels(_ number: Int, _ labels: [String]) async throws(ForgeError) {
        _ = try await http.call(
            "add labels to !\(number)", "PUT", "\(projectPath)/merge_requests/\(number)",
            json: ["add_labels": labels])
    }

    /// Reviewers are named by user name and sent as user ids.
    /// `reviewer_ids` replaces the whole set: the request's current reviewers are kept.
    public func requestReviewers(_ number: Int, _ reviewers: [String]) async throws(ForgeError) {
        var ids: [Int] = []
        for name in reviewers {
            let users = try await http.list("look up user \(name)", "/users?username=\(ForgeHTTP.query(name))")
            guard let id = users.first?["id"] as? Int else {
                throw ForgeError(.notFound, operation: "look up user \(name)", status: 200, message: "no GitLab user is named \(name)")
            }
            ids.append(id)
        }
        let current = try await http.object("read merge request !\(number)", "GET", "\(projectPath)/merge_requests/\(number)")
        let kept = ((current["reviewers"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
        let all = kept + ids.filter { !kept.contains($0) }
        guard all != kept else { return }
        _ = try await http.call(
            "request reviewers on !\(number)", "PUT", "\(projectPath)/merge_requests/\(number)", json: ["reviewer_ids": all])
    }

    /// Merge when the pipeline succeeds: `auto_merge` from GitLab 17.11, before that
    /// `merge_when_pipeline_succeeds` (an older server ignores `auto_merge` and merges at
    /// once). A 405 right after creation (no pipeline yet) is retried.
    /// A squash is asked for with `squash: true`; a rebase follows the project's merge method.
    public func enableAutoMerge(_ request: MergeRequest, method: MergeMethod) async throws(ForgeError) {
        let field = try await understandsAutoMerge() ? "auto_merge" : "merge_when_pipeline_succeeds"
        var body: [String: Any] = [field: true]
        if method == .squash { body["squash"] = true }
        var attempt = 0
        while true {
            attempt += 1
            do {
                _ = try await http.call(
                    "enable auto-merge on !\(request.number)", "PUT", "\(projectPath)/merge_requests/\(request.number)/merge",
                    json: body)
                return
            } catch  where error.code == .notAllowed && attempt < 4 {
                await sleep(.seconds(2 * attempt))
            }
        }
    }

    /// Whether the server is GitLab 17.11 or newer (`GET /version`, read once).
    func understandsAutoMerge() async throws(ForgeError) -> Bool {
        let known: (major: Int, minor: Int)
        if let cached = version.known.withLock({ $0 }) {
            known = cached
        } else {
            let answer = try await http.object("read the GitLab version", "GET", "/version")
            let parts = (answer["version"] as? String ?? "").split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            known = (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
            version.known.withLock { $0 = known }
        }
        return known.major > 17 || (known.major == 17 && known.minor >= 11)
    }

    public func comment(_ number: Int, _ text: String) async throws(ForgeError) {
        _ = try await http.call("comment on !\(number)", "POST", "\(projectPath)/merge_requests/\(number)/notes", json: ["body": text])
    }

    /// `GET /projects/:id/merge_requests/:iid`: `state` is opened, merged, closed or locked.
    public func mergeRequestStatus(_ number: Int) async throws(ForgeError) -> MergeRequestStatus {
        let operation = "read merge request !\(number)"
        let object = try await http.object(operation, "GET", "\(projectPath)/merge_requests/\(number)")
        let states: [String: MergeRequestStatus.State] = ["opened": .open, "merged": .merged, "closed": .closed, "locked": .closed]
        return MergeRequestStatus(
            number: number, state: try ForgeHTTP.state(object["state"], states, operation), headCommit: object["sha"] as? String)
    }

    /// `PUT /projects/:id/merge_requests/:iid` with `state_event: close`.
    public func closeMergeRequest(_ number: Int) async throws(ForgeError) {
        _ = try await http.call(
            "close merge request !\(number)", "PUT", "\(projectPath)/merge_requests/\(number)", json: ["state_event": "close"])
    }

    static func parse(_ object: [String: Any]) -> MergeRequest {
        MergeRequest(
            number: object["iid"] as? Int ?? 0, url: object["web_url"] as? String ?? "", title: object["title"] as? String ?? "",
            body: object["description"] as? String ?? "", head: object["source_branch"] as? String ?? "",
            base: object["target_branch"] as? String ?? "")
    }
}
