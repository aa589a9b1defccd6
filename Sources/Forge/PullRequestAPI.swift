/// What GitHub and Gitea (and Forgejo) share to the letter: a pull request is an issue, commented
/// on at `POST /repos/{owner}/{repo}/issues/{n}/comments`; `GET …/pulls/{n}` answers `state`
/// (open or closed) and `merged`; `PATCH …/pulls/{n}` with `state: closed` closes it.
protocol PullRequestAPI {
    var http: ForgeHTTP { get }
    /// `/repos/{owner}/{repo}`, each part percent-encoded.
    var repoPath: String { get }
}

extension PullRequestAPI {
    public func comment(_ number: Int, _ text: String) async throws(ForgeError) {
        _ = try await http.call("comment on #\(number)", "POST", "\(repoPath)/issues/\(number)/comments", json: ["body": text])
    }

    public func mergeRequestStatus(_ number: Int) async throws(ForgeError) -> MergeRequestStatus {
        ForgeHTTP.pullRequestStatus(try await http.object("read pull request #\(number)", "GET", "\(repoPath)/pulls/\(number)"), number)
    }

    public func closeMergeRequest(_ number: Int) async throws(ForgeError) {
        _ = try await http.call("close pull request #\(number)", "PATCH", "\(repoPath)/pulls/\(number)", json: ["state": "closed"])
    }
}
