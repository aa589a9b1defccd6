import Foundation
import HTTPClient

/// Gitea and Forgejo REST v1 (`https://HOST/api/v1`). The transport carries
/// `Authorization: token …`.
public struct GiteaForge: Forge, PullRequestAPI {
    let http: ForgeHTTP
    let owner: String
    let repository: String

    /// `repository` is `owner/name`.
    /// How a retry waits (tests pass one that does not).
    let sleep: @Sendable (Duration) async -> Void

    public init(
        transport: any HTTPTransport, apiBaseURL: String, repository: String,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        http = ForgeHTTP(transport: transport, baseURL: apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL)
        (owner, self.repository) = ForgeHTTP.ownerAndName(repository)
        self.sleep = sleep
    }

    var repoPath: String { "/repos/\(ForgeHTTP.segment(owner))/\(ForgeHTTP.segment(repository))" }

    public func findOpenMergeRequest(head: String, base: String, marker: String) async throws(ForgeError) -> MergeRequest? {
        do {
            let found = try await http.object(
                "find pull request", "GET", "\(repoPath)/pulls/\(ForgeHTTP.segment(base))/\(ForgeHTTP.segment(head))")
            if (found["state"] as? String) == "open" { return Self.parse(found) }
        } catch  where error.code == .notFound {}
        // The list filters by base branch (`base_branch`), not by head: filter by head or marker here.
        let open = try await http.list(
            "list pull requests", "\(repoPath)/pulls?state=open&base_branch=\(ForgeHTTP.segment(base))&limit=50")
        return open.first { pull in
            ((pull["head"] as? [String: Any])?["ref"] as? String == head && (pull["base"] as? [String: Any])?["ref"] as? String == base)
                || (pull["body"] as? String)?.contains(marker) == true
        }.map(Self.parse)
    }

    public func openMergeRequest(_ content: MergeRequestContent) async throws(ForgeError) -> MergeRequest {
        do {
            return Self.parse(
                try await http.object(
                    "create pull request", "POST", "\(repoPath)/pulls",
                    json: [
                        "head": content.head, "base": content.base, "title": content.draft ? "WIP: \(content.title)" : content.title,
                        "body": content.body,
                    ]))
        } catch  where error.code == .conflict {
            // "pull request already exists for these targets [id: 890, issue_id: 2, …]"
            let number = error.message.range(of: "issue_id: ").flatMap { Int(error.message[$0.upperBound...].prefix { $0.isNumber }) }
            throw ForgeError(.alreadyExists, operation: error.operation, status: error.status, message: error.message, existing: number)
        }
    }

    /// Gitea answers an edit with 201.
    public func updateMergeRequest(_ number: Int, title: String, body: String) async throws(ForgeError) -> MergeRequest {
        Self.parse(
            try await http.object(
                "update pull request #\(number)", "PATCH", "\(repoPath)/pulls/\(number)", json: ["title": title, "body": body]))
    }

    /// Labels are added by id: names are looked up first, in the repository and then in its
    /// organisation (`/orgs/{org}/labels`; a user's repository has none there).
    public func addLabels(_ number: Int, _ labels: [String]) async throws(ForgeError) {
        var known = try await http.list("list labels", "\(repoPath)/labels?limit=50")
        if labels.contains(where: { name in !known.contains { $0["name"] as? String == name } }) {
            do { known += try await http.list("list organisation labels", "/orgs/\(ForgeHTTP.segment(owner))/labels?limit=50") } catch
            where error.code == .notFound {}
        }
        var ids: [Int] = []
        for name in labels {
            guard let id = known.first(where: { $0["name"] as? String == name })?["id"] as? Int else {
                throw ForgeError(
                    .notFound, operation: "add labels to #\(number)", status: nil,
                    message: "the repository has no label named \(name); create it first")
            }
            ids.append(id)
        }
        _ = try await http.call("add labels to #\(number)", "POST", "\(repoPath)/issues/\(number)/labels", json: ["labels": ids])
    }

    public func requestReviewers(_ number: Int, _ reviewers: [String]) async throws(ForgeError) {
        _ = try await http.call(
            "request reviewers on #\(number)", "POST", "\(repoPath)/pulls/\(number)/requested_reviewers", json: ["reviewers": reviewers])
    }

    /// Schedules the merge for when checks pass, or merges now (both 200); already scheduled
    /// (409) is success. A 405 ("try again later": checks or the merge queue are busy) is asked
    /// again a few times, a second apart. The body's field is `do` (the Swagger's `MergePullRequestOption`).
    public func enableAutoMerge(_ request: MergeRequest, method: MergeMethod) async throws(ForgeError) {
        var attempt = 1
        while true {
            do {
                _ = try await http.call(
                    "enable auto-merge on #\(request.number)", "POST", "\(repoPath)/pulls/\(request.number)/merge",
                    json: ["do": method.rawValue, "merge_when_checks_succeed": true, "delete_branch_after_merge": true])
                return
            } catch where error.code == .conflict {
                return
            } catch where error.code == .notAllowed && attempt < Self.mergeAttempts {
                attempt += 1
                await sleep(.seconds(1))
            }
        }
    }

    /// How often a merge answered 405 ("try again later") is asked for.
    static let mergeAttempts = 4

    static func parse(_ object: [String: Any]) -> MergeRequest { ForgeHTTP.pullRequest(object) }
}
