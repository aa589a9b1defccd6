import Forge
import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Testing

@Suite struct GitHubForgeTests {
    static func content(
        title: String = "Bump ghcr.io/acme/api to 1.4.2 in acc", body: String = "body", head: String = "imagebump/acc/ghcr.io-acme-api"
    ) -> MergeRequestContent {
        var content = MergeRequestContent(
            title: title, body: body + "\n<!-- imagebump:target=acc image=ghcr.io/acme/api -->", head: head, base: "main",
            marker: "<!-- imagebump:target=acc image=ghcr.io/acme/api -->")
        content.labels = ["imagebump", "acc"]
        content.reviewers = ["alice"]
        content.autoMerge = true
        return content
    }

    static func forge(_ double: GitHubDouble, token: String? = nil) -> GitHubForge {
        let transport = AuthorizingTransport(
            RetryingTransport(CurlClient(), policy: RetryPolicy(attempts: 3, baseDelay: .milliseconds(1), sleep: { _ in })),
            headers: [
                ("Authorization", "Bearer \(token ?? double.token)"), ("Accept", "application/vnd.github+json"),
                ("X-GitHub-Api-Version", "2022-11-28"),
            ])
        return GitHubForge(transport: transport, apiBaseURL: double.apiURL, repository: "acme/env")
    }

    @Test func createsOnceThenUpdatesThenLeavesAlone() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        let sync = MergeRequestSync(forge: Self.forge(double))
        let first = try await sync.ensure(Self.content())
        #expect(first.outcome == .created)
        #expect(double.pulls.count == 1)
        let pull = try #require(double.pulls.first)
        #expect(pull.labels == ["imagebump", "acc"])
        #expect(pull.reviewers == ["alice"])
        #expect(pull.autoMerge)

        let create = try #require(double.requests.first { $0.method == "POST" && $0.path == "/repos/acme/env/pulls" })
        #expect(create.headers["authorization"] == "Bearer \(double.token)")
        #expect(create.json?["head"] as? String == "imagebump/acc/ghcr.io-acme-api")
        #expect(create.json?["base"] as? String == "main")
        let find = try #require(double.requests.first { $0.method == "GET" })
        #expect(find.query["head"] == "acme:imagebump/acc/ghcr.io-acme-api")
        #expect(find.query["state"] == "open")

        let second = try await sync.ensure(Self.content(title: "Bump ghcr.io/acme/api to 1.4.3 in acc"))
        #expect(second.outcome == .updated)
        #expect(double.pulls.count == 1)
        #expect(double.pulls.first?.title == "Bump ghcr.io/acme/api to 1.4.3 in acc")

        let writes = double.requests.filter { $0.method != "GET" }.count
        let third = try await sync.ensure(Self.content(title: "Bump ghcr.io/acme/api to 1.4.3 in acc"))
        #expect(third.outcome == .unchanged)
        #expect(double.requests.filter { $0.method != "GET" }.count == writes)
    }

    @Test func aCreateRaceFallsBackToUpdating() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        // Someone opens the same PR between our find and our create: the find sees nothing,
        // the create gets GitHub's 422 "A pull request already exists".
        double.enqueueFaults([.json(200, [])])
        double.addPull(title: "old", body: "old", head: "imagebump/acc/ghcr.io-acme-api", base: "main")
        let result = try await MergeRequestSync(forge: Self.forge(double)).ensure(Self.content())
        #expect(result.outcome == .updated)
        #expect(double.pulls.count == 1)
        #expect(double.requests.contains { $0.method == "POST" && $0.path == "/repos/acme/env/pulls" })
    }

    @Test func aRenamedBranchIsFoundByItsMarker() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        for index in 1...45 { double.addPull(title: "other \(index)", body: "x", head: "feature-\(index)", base: "main") }
        double.addPull(
            title: "ours", body: "old\n<!-- imagebump:target=acc image=ghcr.io/acme/api -->", head: "renamed-branch", base: "main")
        let found = try await Self.forge(double).findOpenMergeRequest(
            head: "imagebump/acc/ghcr.io-acme-api", base: "main", marker: "<!-- imagebump:target=acc image=ghcr.io/acme/api -->")
        #expect(found?.number == 46)
        #expect(found?.head == "renamed-branch")
    }

    @Test func paginationFollowsLinkHeaders() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        for index in 1...250 { double.addPull(title: "pr \(index)", body: "", head: "b\(index)", base: "main") }
        let none = try await Self.forge(double).findOpenMergeRequest(head: "nope", base: "main", marker: "<!-- none -->")
        #expect(none == nil)
        let pages = double.requests.filter { $0.query["state"] == "open" && $0.query["head"] == nil }
        #expect(pages.map { $0.query["page"] ?? "1" } == ["1", "2", "3"])
    }

    @Test func badCredentialsAreAClearError() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        do {
            _ = try await MergeRequestSync(forge: Self.forge(double, token: "wrong")).ensure(Self.content())
            Issue.record("expected 401")
        } catch {
            #expect(error.code == .unauthorized)
            #expect(error.description == "find pull request failed (HTTP 401): Bad credentials")
        }
    }

    @Test func rateLimitsAreWaitedOutAndSecondaryLimitsToo() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        double.enqueueFaults([
            .json(429, ["message": "API rate limit exceeded"], headers: [("Retry-After", "1")]),
            .json(
                403, ["message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."],
                headers: [("Retry-After", "1")]),
        ])
        let result = try await MergeRequestSync(forge: Self.forge(double)).ensure(Self.content())
        #expect(result.outcome == .created)
        #expect(double.pulls.count == 1)
    }

    @Test func commentsGoToTheIssue() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        double.addPull(title: "t", body: "b", head: "h", base: "main")
        try await Self.forge(double).comment(1, "A person pushed to this branch; imagebump will not overwrite it.")
        #expect(double.pulls.first?.comments == ["A person pushed to this branch; imagebump will not overwrite it."])
    }
}

@Suite struct GitHubErrorTests {
    @Test func forbiddenAndNotFoundCarryGitHubsMessages() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        double.enqueueFaults([
            .json(
                403,
                [
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "403",
                ])
        ])
        let forge = GitHubForgeTests.forge(double)
        do {
            _ = try await forge.openMergeRequest(GitHubForgeTests.content())
            Issue.record("expected 403")
        } catch {
            #expect(error.code == .forbidden)
            #expect(error.message == "Resource not accessible by integration")
        }
        do {
            _ = try await forge.updateMergeRequest(99, title: "t", body: "b")
            Issue.record("expected 404")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.description == "update pull request #99 failed (HTTP 404): Not Found")
        }
    }

    @Test func serverErrorsAreRetriedForReadsButNotForCreates() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        double.enqueueFaults([DoubleResponse(status: 502, body: "<html>Bad gateway</html>"), DoubleResponse(status: 503)])
        #expect(try await GitHubForgeTests.forge(double).findOpenMergeRequest(head: "h", base: "main", marker: "m") == nil)

        double.enqueueFaults([.json(500, ["message": "Server Error"])])
        do {
            _ = try await GitHubForgeTests.forge(double).openMergeRequest(GitHubForgeTests.content())
            Issue.record("a create must not be replayed after a 500")
        } catch {
            #expect(error.code == .server)
        }
        #expect(double.pulls.isEmpty)
        #expect(double.requests.filter { $0.method == "POST" }.count == 1)
    }
}

/// Auto-merge as GitHub does it: scheduled through GraphQL with the configured method; merged
/// now through REST when nothing is pending; a method the repository does not allow is a warning.
@Suite struct GitHubAutoMergeTests {
    @Test func aCleanPullRequestIsMergedNowWithItsHeadCommit() async throws {
        let double = try GitHubDouble()
        defer { double.expectDocumentedExchanges() }
        var content = GitHubForgeTests.content()
        (content.labels, content.reviewers, content.autoMerge) = ([], [], false)
        let forge = GitHubForgeTests.forge(double)
        let result = try await MergeRequestSync(forge: forge).ensure(content)
        _ = double.store.mutate("\(result.request.number)", missing: DoubleResponse(status: 404)) { pull in
            pull.clean = true
            return DoubleResponse(status: 200)
        }
        try await forge.enableAutoMerge(result.request, method: .squash)
        let pull = try #require(double.pulls.first)
        #expect(pull.merged)
        #expect(pull.mergeMethod == "squash")
        let merge = try #require(double.requests.first { $0.method == "PUT" && $0.path.hasSuffix("/pulls/1/merge") })
        #expect(merge.json?["sha"] as? String == pull.headSHA)
    }

    @Test func aSquashOnlyRepositoryTakesSquashAndRefusesMergeWithAWarning() async throws {
        let double = try GitHubDouble(allowedMergeMethods: ["squash"])
        defer { double.expectDocumentedExchanges() }
        var content = GitHubForgeTests.content()
        (content.labels, content.reviewers, content.mergeMethod) = ([], [], .squash)
        let squashed = try await MergeRequestSync(forge: GitHubForgeTests.forge(double)).ensure(content)
        #expect(squashed.warnings.isEmpty, "\(squashed.warnings)")
        #expect(double.pulls.first?.mergeMethod == "squash")
        let variables = double.requests.first { $0.path == "/graphql" }?.json?["variables"] as? [String: Any]
        #expect(variables?["method"] as? String == "SQUASH")

        content.head = "imagebump/prd/ghcr.io-acme-api"
        content.marker = "<!-- imagebump:target=prd image=ghcr.io/acme/api -->"
        content.body = "body\n" + content.marker
        content.mergeMethod = .merge
        let refused = try await MergeRequestSync(forge: GitHubForgeTests.forge(double)).ensure(content)
        #expect(refused.outcome == .created)
        #expect(refused.warnings.count == 1)
        #expect(refused.warnings.first?.contains("auto-merge not set on #2: Merge method merge is not allowed") == true, "\(refused.warnings)")
    }
}
