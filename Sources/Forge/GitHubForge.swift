import Foundation
import HTTPClient

/// GitHub REST v3 (github.com or Enterprise `https://HOST/api/v3`); auto-merge via GraphQL.
/// The transport carries `Authorization: Bearer …`.
public struct GitHubForge: Forge, PullRequestAPI {
    let http: ForgeHTTP
    let owner: String
    let repository: String
    let graphQLURL: String

    /// `repository` is `owner/name`.
    public init(transport: any HTTPTransport, apiBaseURL: String = "https://api.github.com", repository: String) {
        let base = apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL
        http = ForgeHTTP(transport: transport, baseURL: base)
        (owner, self.repository) = ForgeHTTP.ownerAndName(repository)
        graphQLURL = base.hasSuffix("/api/v3") ? String(base.dropLast(3)) + "graphql" : base + "/graphql"
    }

    var repoPath: String { "/repos/\(ForgeHTTP.segment(owner))/\(ForgeHTTP.segment(repository))" }

    public func findOpenMergeRequest(head: String, base: String, marker: String) async throws(ForgeError) -> MergeRequest? {
        let filtered = try await http.list(
            "find pull request",
            "\(repoPath)/pulls?state=open&head=\(ForgeHTTP.query("\(owner):\(head)"))&base=\(ForgeHTTP.query(base))&per_page=100")
        if let found = filtered.first { return Self.parse(found) }
        // Ours even if the branch was renamed: the hidden marker in the body.
        let open = try await http.list("list pull requests", "\(repoPath)/pulls?state=open&per_page=100")
        return open.first { ($0["body"] as? String)?.contains(marker) == true }.map(Self.parse)
    }

    public func openMergeRequest(_ content: MergeRequestContent) async throws(ForgeError) -> MergeRequest {
        do {
            let created = try await http.object(
                "create pull request", "POST", "\(repoPath)/pulls",
                json: [
                    "title": content.title, "head": content.head, "base": content.base, "body": content.body, "draft": content.draft,
                    "maintainer_can_modify": true,
                ])
            return Self.parse(created)
        } catch  where error.code == .validation && error.message.contains("A pull request already exists") {
            throw ForgeError(.alreadyExists, operation: error.operation, status: error.status, message: error.message)
        }
    }

    public func updateMergeRequest(_ number: Int, title: String, body: String) async throws(ForgeError) -> MergeRequest {
        Self.parse(
            try await http.object(
                "update pull request #\(number)", "PATCH", "\(repoPath)/pulls/\(number)", json: ["title": title, "body": body]))
    }

    public func addLabels(_ number: Int, _ labels: [String]) async throws(ForgeError) {
        _ = try await http.call("add labels to #\(number)", "POST", "\(repoPath)/issues/\(number)/labels", json: ["labels": labels])
    }

    public func requestReviewers(_ number: Int, _ reviewers: [String]) async throws(ForgeError) {
        _ = try await http.call(
            "request reviewers on #\(number)", "POST", "\(repoPath)/pulls/\(number)/requested_reviewers", json: ["reviewers": reviewers])
    }

    /// Auto-merge through GraphQL (`enablePullRequestAutoMerge` with the configured method).
    /// When nothing is pending ("Pull request is in clean status": checks passed, no required
    /// review), GitHub refuses to schedule it: the request is merged now through REST
    /// (`PUT …/pulls/{n}/merge`, with its head commit, so a moved head is a conflict).
    public func enableAutoMerge(_ request: MergeRequest, method: MergeMethod) async throws(ForgeError) {
        guard let node = request.nodeID else {
            throw ForgeError(
                .unexpected, operation: "enable auto-merge on #\(request.number)", status: nil, message: "the pull request has no node_id")
        }
        let mutation =
            "mutation($id: ID!, $method: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) { clientMutationId } }"
        let answer = try await http.object(
            "enable auto-merge on #\(request.number)", "POST", graphQLURL,
            json: ["query": mutation, "variables": ["id": node, "method": method.rawValue.uppercased()]])
        guard let errors = answer["errors"] as? [[String: Any]], !errors.isEmpty else { return }
        let message = errors.compactMap { $0["message"] as? String }.joined(separator: "; ")
        guard message.lowercased().contains("clean status") else {
            throw ForgeError(.validation, operation: "enable auto-merge on #\(request.number)", status: 200, message: message)
        }
        var body: [String: Any] = ["merge_method": method.rawValue]
        if let head = try? await mergeRequestStatus(request.number).headCommit { body["sha"] = head }
        _ = try await http.call("merge pull request #\(request.number)", "PUT", "\(repoPath)/pulls/\(request.number)/merge", json: body)
    }

    static func parse(_ object: [String: Any]) -> MergeRequest { ForgeHTTP.pullRequest(object) }
}
