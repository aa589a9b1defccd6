import Foundation
import HTTPClient

/// Bitbucket Cloud REST 2.0 (`https://api.bitbucket.org/2.0`). Pull requests have no labels
/// and no auto-merge there, and Bitbucket documents no "already exists" error for Cloud, so
/// an open request is always looked for before one is created. The transport carries
/// `Authorization: Bearer …` (an access token) or Basic (an app password).
public struct BitbucketForge: Forge {
    let http: ForgeHTTP
    let workspace: String
    let repository: String

    /// `repository` is `workspace/repo_slug`.
    public init(transport: any HTTPTransport, apiBaseURL: String = "https://api.bitbucket.org/2.0", repository: String) {
        http = ForgeHTTP(transport: transport, baseURL: apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL)
        (workspace, self.repository) = ForgeHTTP.ownerAndName(repository)
    }

    var repoPath: String { "/repositories/\(ForgeHTTP.segment(workspace))/\(ForgeHTTP.segment(repository))" }

    public func findOpenMergeRequest(head: String, base: String, marker: String) async throws(ForgeError) -> MergeRequest? {
        let query = ForgeHTTP.query("source.branch.name=\"\(head)\" AND destination.branch.name=\"\(base)\" AND state=\"OPEN\"")
        if let found = try await http.pagedValues("find pull request", "\(repoPath)/pullrequests?q=\(query)").first {
            return Self.parse(found)
        }
        let open = try await http.pagedValues("list pull requests", "\(repoPath)/pullrequests?state=OPEN&pagelen=50")
        return open.first { ($0["description"] as? String)?.contains(marker) == true }.map(Self.parse)
    }

    public func openMergeRequest(_ content: MergeRequestContent) async throws(ForgeError) -> MergeRequest {
        Self.parse(
            try await http.object(
                "create pull request", "POST", "\(repoPath)/pullrequests",
                json: [
                    "type": "pullrequest", "title": content.title, "description": content.body, "source": ["branch": ["name": content.head]],
                    "destination": ["branch": ["name": content.base]], "close_source_branch": true, "draft": content.draft,
                ]))
    }

    public func updateMergeRequest(_ number: Int, title: String, body: String) async throws(ForgeError) -> MergeRequest {
        Self.parse(
            try await http.object(
                "update pull request #\(number)", "PUT", "\(repoPath)/pullrequests/\(number)",
                json: ["type": "pullrequest", "title": title, "description": body]))
    }

    public func addLabels(_ number: Int, _ labels: [String]) async throws(ForgeError) {
        throw ForgeError(
            .notAllowed, operation: "add labels to #\(number)", status: nil,
            message: "Bitbucket Cloud pull requests have no labels; remove mergeRequest.labels for this target")
    }

    /// Reviewers are account UUIDs (`{…}`). The update is a `PUT` of the pull request, which
    /// Bitbucket refuses without its `title`: the request is read first.
    public func requestReviewers(_ number: Int, _ reviewers: [String]) async throws(ForgeError) {
        let current = try await http.object("read pull request #\(number)", "GET", "\(repoPath)/pullrequests/\(number)")
        let people = reviewers.map { ["uuid": $0] }
        _ = try await http.call(
            "request reviewers on #\(number)", "PUT", "\(repoPath)/pullrequests/\(number)",
            json: ["type": "pullrequest", "title": current["title"] as? String ?? "", "reviewers": people])
    }

    public func enableAutoMerge(_ request: MergeRequest, method: MergeMethod) async throws(ForgeError) {
        throw ForgeError(
            .notAllowed, operation: "enable auto-merge on #\(request.number)", status: nil,
            message: "Bitbucket Cloud has no auto-merge API; remove mergeRequest.autoMerge for this target")
    }

    public func comment(_ number: Int, _ text: String) async throws(ForgeError) {
        _ = try await http.call(
            "comment on #\(number)", "POST", "\(repoPath)/pullrequests/\(number)/comments", json: ["content": ["raw": text]])
    }

    /// `GET /repositories/{workspace}/{repo}/pullrequests/{id}`: `state` is OPEN, MERGED,
    /// DECLINED or SUPERSEDED.
    public func mergeRequestStatus(_ number: Int) async throws(ForgeError) -> MergeRequestStatus {
        let operation = "read pull request #\(number)"
        let object = try await http.object(operation, "GET", "\(repoPath)/pullrequests/\(number)")
        let states: [String: MergeRequestStatus.State] = ["OPEN": .open, "MERGED": .merged, "DECLINED": .closed, "SUPERSEDED": .closed]
        let head = ((object["source"] as? [String: Any])?["commit"] as? [String: Any])?["hash"] as? String
        return MergeRequestStatus(number: number, state: try ForgeHTTP.state(object["state"], states, operation), headCommit: head)
    }

    /// `POST /repositories/{workspace}/{repo}/pullrequests/{id}/decline`.
    public func closeMergeRequest(_ number: Int) async throws(ForgeError) {
        _ = try await http.call("decline pull request #\(number)", "POST", "\(repoPath)/pullrequests/\(number)/decline")
    }

    static func parse(_ object: [String: Any]) -> MergeRequest {
        func branch(_ key: String) -> String { ((object[key] as? [String: Any])?["branch"] as? [String: Any])?["name"] as? String ?? "" }
        return MergeRequest(
            number: object["id"] as? Int ?? 0,
            url: ((object["links"] as? [String: Any])?["html"] as? [String: Any])?["href"] as? String ?? "",
            title: object["title"] as? String ?? "", body: object["description"] as? String ?? "", head: branch("source"),
            base: branch("destination"))
    }
}
