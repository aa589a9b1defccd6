import Foundation
import TestSupport
import Testing

@testable import Forge

/// The clients' parsers fed the vendors' own published examples (from their API descriptions in
/// `TestSupport/ForgeContracts/`), not the doubles' shapes.
@Suite struct PublishedExampleTests {
    static func contract(_ vendor: ForgeContract) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: vendor.file)) as? [String: Any] ?? [:]
    }

    static func githubExample(_ name: String) throws -> Any? {
        let examples = (try contract(.github)["components"] as? [String: Any])?["examples"] as? [String: Any]
        return (examples?[name] as? [String: Any])?["value"]
    }

    @Test func githubsPullRequestExample() throws {
        let example = try #require(try Self.githubExample("pull-request") as? [String: Any])
        let request = GitHubForge.parse(example)
        #expect(request.number == 1347)
        #expect(request.url == "https://github.com/octocat/Hello-World/pull/1347")
        #expect(request.title == "Amazing new feature")
        #expect(request.head == "new-topic")
        #expect(request.base == "master")
        #expect(request.nodeID == "MDExOlB1bGxSZXF1ZXN0MQ==")
        let status = ForgeHTTP.pullRequestStatus(example, 1347)
        #expect(status.state == .open)
        #expect(status.headCommit == "6dcb09b5b57875f334f61aebed695e2e4193db5e")
    }

    @Test func githubsPullRequestListExample() throws {
        let items = try #require(try Self.githubExample("pull-request-simple-items") as? [[String: Any]])
        let requests = items.map(GitHubForge.parse)
        #expect(requests.map(\.number) == [1347])
        #expect(requests.first?.head == "new-topic")
    }

    @Test func bitbucketsPullRequestExample() throws {
        let paths = try Self.contract(.bitbucket)["paths"] as? [String: Any]
        let put = (paths?["/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}"] as? [String: Any])?["put"] as? [String: Any]
        let content = ((put?["responses"] as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
        let examples = (content?["application/json"] as? [String: Any])?["examples"] as? [String: Any]
        let example = try #require((examples?["response"] as? [String: Any])?["value"] as? [String: Any])
        let request = BitbucketForge.parse(example)
        #expect(request.number == 1)
        #expect(request.url == "https://bitbucket.org/example-username/bits_and_bobs/pull-requests/1")
        #expect(request.head == "branch_magnificent_internet")
        #expect(request.base == "master")
        #expect(request.body == "Everything is awesome!")
    }
}

/// A 409 means "already exists" only when a create answers it.
@Suite struct ConflictTests {
    @Test func aConflictOutsideACreateIsAConflict() async throws {
        let double = try GiteaDouble()
        defer { double.expectDocumentedExchanges() }
        let forge = GiteaForgeTests.forge(double)
        let created = try await forge.openMergeRequest(GitHubForgeTests.content())
        double.enqueueFaults([.json(409, ["message": "The base branch of this pull request has changed", "url": "http://gitea/api/swagger"])])
        do {
            _ = try await forge.updateMergeRequest(created.number, title: "t", body: "b")
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == .conflict)
        }
    }
}
