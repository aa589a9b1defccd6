import Forge
import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Testing

@Suite struct GitLabForgeTests {
    static func forge(_ double: GitLabDouble, token: String? = nil) -> GitLabForge {
        GitLabForge(
            transport: AuthorizingTransport(CurlClient(), headers: [("PRIVATE-TOKEN", token ?? double.token)]), apiBaseURL: double.apiURL,
            project: "acme/env", sleep: { _ in })
    }

    @Test func createsWithLabelsReviewersAndAutoMergeRetryingTheFirst405() async throws {
        let double = try GitLabDouble()
        defer { double.expectDocumentedExchanges() }
        let result = try await MergeRequestSync(forge: Self.forge(double)).ensure(GitHubForgeTests.content())
        #expect(result.outcome == .created)
        #expect(result.request.url == "https://gitlab.com/acme/env/-/merge_requests/1")
        let pull = try #require(double.pulls.first)
        #expect(pull.labels == ["imagebump", "acc"])
        #expect(pull.reviewers == ["alice"])
        #expect(pull.autoMerge)
        #expect(pull.mergeAttempts == 2)
        let create = try #require(double.requests.first { $0.method == "POST" })
        #expect(create.target == "/api/v4/projects/acme%2Fenv/merge_requests")
        #expect(create.json?["remove_source_branch"] as? Bool == true)
        #expect(create.headers["private-token"] == double.token)
    }

    @Test func unauthorizedIsClear() async throws {
        let double = try GitLabDouble()
        defer { double.expectDocumentedExchanges() }
        do {
            _ = try await Self.forge(double, token: "nope").findOpenMergeRequest(head: "h", base: "main", marker: "m")
            Issue.record("expected 401")
        } catch {
            #expect(error.code == .unauthorized)
            #expect(error.description == "find merge request failed (HTTP 401): 401 Unauthorized")
        }
    }
}

@Suite struct GiteaForgeTests {
    static func forge(_ double: GiteaDouble) -> GiteaForge {
        GiteaForge(
            transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "token \(double.token)")]), apiBaseURL: double.apiURL,
            repository: "acme/env")
    }

    @Test func createsOnceThenUpdatesWithLabelIDsAndSchedulesTheMerge() async throws {
        let double = try GiteaDouble()
        defer { double.expectDocumentedExchanges() }
        var content = GitHubForgeTests.content()
        content.reviewers = []
        let sync = MergeRequestSync(forge: Self.forge(double))
        #expect(try await sync.ensure(content).outcome == .created)
        let pull = try #require(double.pulls.first)
        #expect(pull.labels == ["imagebump", "acc"])
        #expect(pull.autoMerge)
        let labels = try #require(double.requests.first { $0.path.hasSuffix("/issues/1/labels") })
        #expect(labels.json?["labels"] as? [Int] == [3, 4])
        let find = try #require(double.requests.first)
        #expect(
            find.path == "/api/v1/repos/acme/env/pulls/main/imagebump%2Facc%2Fghcr.io-acme-api"
                || find.path == "/api/v1/repos/acme/env/pulls/main/imagebump/acc/ghcr.io-acme-api")

        content.title = "Bump ghcr.io/acme/api to 1.4.3 in acc"
        #expect(try await sync.ensure(content).outcome == .updated)  // Gitea answers the edit with 201
        #expect(double.pulls.count == 1)
        #expect(double.pulls.first?.title == "Bump ghcr.io/acme/api to 1.4.3 in acc")
    }

}

/// A create that conflicts with an open request (GitLab's 409, Gitea's 409 naming the issue)
/// names the request that exists.
@Suite struct CreateConflictTests {
    @Test(arguments: ["gitlab", "gitea"])
    func theConflictNamesTheExistingRequest(_ vendor: String) async throws {
        let forge: any Forge
        let store: ForgeDoubleStore
        let base: String
        var message: String?
        var double: AnyObject  // alive until the end of the test
        if vendor == "gitlab" {
            let gitlab = try GitLabDouble()
            (forge, store, base, double) = (GitLabForgeTests.forge(gitlab), gitlab.store, "release", gitlab)
            message = "Another open merge request already exists for this source branch: !1"
        } else {
            let gitea = try GiteaDouble()
            (forge, store, base, double) = (GiteaForgeTests.forge(gitea), gitea.store, "main", gitea)
        }
        store.add(title: "old", body: "old", head: "imagebump/acc/ghcr.io-acme-api", base: base)
        do {
            _ = try await forge.openMergeRequest(GitHubForgeTests.content())
            Issue.record("expected 409")
        } catch {
            #expect(error.code == .alreadyExists)
            #expect(error.existing == 1)
            if let message { #expect(error.message == message) }
        }
        withExtendedLifetime(double) {}
    }
}
