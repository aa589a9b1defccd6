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

    @Test func organisationLabelsAreFoundAndABusyMergeIsAskedAgain() async throws {
        let double = try GiteaDouble(labels: ["acc": 4], organisationLabels: ["imagebump": 11])
        defer { double.expectDocumentedExchanges() }
        var content = GitHubForgeTests.content()
        content.reviewers = ["alice"]
        content.autoMerge = false
        let forge = Self.forge(double)
        let result = try await MergeRequestSync(forge: forge).ensure(content)
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(double.pulls.first?.labels.sorted() == ["acc", "imagebump"])
        #expect(double.pulls.first?.reviewers == ["alice"])
        // "Please try again later" (405) while checks settle: asked again, then scheduled.
        double.enqueueFaults([.json(405, ["message": "Please try again later", "url": "http://gitea/api/swagger"])])
        try await forge.enableAutoMerge(result.request)
        #expect(double.pulls.first?.autoMerge == true)
        #expect(double.requests.filter { $0.path.hasSuffix("/pulls/1/merge") }.map { $0.json?["do"] as? String } == ["merge", "merge"])
    }

    @Test func aDraftStaysADraftAndOneTakenOutOfDraftStaysOut() async throws {
        let double = try GiteaDouble()
        defer { double.expectDocumentedExchanges() }
        var content = GitHubForgeTests.content()
        (content.reviewers, content.labels, content.autoMerge, content.draft) = ([], [], false, true)
        let sync = MergeRequestSync(forge: Self.forge(double))
        _ = try await sync.ensure(content)
        #expect(double.pulls.first?.title == "WIP: Bump ghcr.io/acme/api to 1.4.2 in acc")
        #expect(try await sync.ensure(content).outcome == .unchanged)  // the prefix is no difference
        content.title = "Bump ghcr.io/acme/api to 1.4.3 in acc"
        #expect(try await sync.ensure(content).outcome == .updated)
        #expect(double.pulls.first?.title == "WIP: Bump ghcr.io/acme/api to 1.4.3 in acc")
        // A person marks it ready: the next update keeps it so.
        _ = double.store.mutate("1", missing: DoubleResponse(status: 404)) { pull in
            pull.title = "Bump ghcr.io/acme/api to 1.4.3 in acc"
            return DoubleResponse(status: 200)
        }
        content.title = "Bump ghcr.io/acme/api to 1.4.4 in acc"
        _ = try await sync.ensure(content)
        #expect(double.pulls.first?.title == "Bump ghcr.io/acme/api to 1.4.4 in acc")
    }
}

/// GitLab's merge call as the server's version understands it, and reviewers added to those a
/// request has.
@Suite struct GitLabVersionTests {
    @Test(arguments: [("16.11.5-ee", "merge_when_pipeline_succeeds"), ("17.11.2-ee", "auto_merge"), ("18.2.0", "auto_merge")])
    func autoMergeIsAskedForInTheWordsTheServerKnows(version: String, field: String) async throws {
        let double = try GitLabDouble(version: version)
        defer { double.expectDocumentedExchanges() }
        let result = try await MergeRequestSync(forge: GitLabForgeTests.forge(double)).ensure(GitHubForgeTests.content())
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let pull = try #require(double.pulls.first)
        #expect(pull.autoMerge)
        #expect(!pull.merged, "merged at once: the server did not understand what was sent")
        let merges = double.requests.filter { $0.path.hasSuffix("/merge") }
        #expect(merges.allSatisfy { $0.json?[field] as? Bool == true })
        #expect(double.requests.filter { $0.path == "/api/v4/version" }.count == 1)
    }

    @Test func reviewersAreAddedToThoseTheRequestHas() async throws {
        let double = try GitLabDouble(users: ["alice": 7, "bob": 8])
        defer { double.expectDocumentedExchanges() }
        let forge = GitLabForgeTests.forge(double)
        var content = GitHubForgeTests.content()
        (content.labels, content.autoMerge, content.reviewers) = ([], false, ["alice"])
        let result = try await MergeRequestSync(forge: forge).ensure(content)
        try await forge.requestReviewers(result.request.number, ["bob"])
        #expect(double.pulls.first?.reviewers == ["alice", "bob"])
        let last = try #require(double.requests.last { $0.method == "PUT" })
        #expect(last.json?["reviewer_ids"] as? [Int] == [7, 8])
    }
}

/// Labels, reviewers and auto-merge are extras: when the forge refuses one, the request is still
/// opened, and the result says what to fix.
@Suite struct MergeRequestExtrasTests {
    @Test func anUnknownReviewerIsAWarningNotAFailure() async throws {
        let double = try GitLabDouble()
        defer { double.expectDocumentedExchanges() }
        var content = GitHubForgeTests.content()
        content.reviewers = ["nobody"]
        let result = try await MergeRequestSync(forge: GitLabForgeTests.forge(double)).ensure(content)
        #expect(result.outcome == .created)
        #expect(double.pulls.count == 1)
        #expect(double.pulls.first?.labels == ["imagebump", "acc"])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.hasPrefix("reviewers nobody not set on #1: ") == true, "\(result.warnings)")
        #expect(result.warnings.first?.contains("check that they exist on the forge") == true)
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
