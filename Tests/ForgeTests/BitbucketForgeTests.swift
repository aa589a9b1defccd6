import Forge
import Foundation
import HTTPClient
import TestSupport
import Testing

@Suite struct BitbucketForgeTests {
    static func forge(_ double: BitbucketDouble, token: String? = nil) -> BitbucketForge {
        BitbucketForge(
            transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "Bearer \(token ?? double.token)")]),
            apiBaseURL: double.apiURL, repository: "acme/env")
    }

    static func content() -> MergeRequestContent {
        var content = GitHubForgeTests.content()
        content.labels = []
        content.reviewers = []
        content.autoMerge = false
        return content
    }

    @Test func findsFirstThenCreatesThenUpdates() async throws {
        let double = try BitbucketDouble()
        defer { double.expectDocumentedExchanges() }
        let sync = MergeRequestSync(forge: Self.forge(double))
        #expect(try await sync.ensure(Self.content()).outcome == .created)
        let create = try #require(double.requests.first { $0.method == "POST" })
        #expect(
            (create.json?["source"] as? [String: Any]).flatMap { $0["branch"] as? [String: Any] }?["name"] as? String
                == "imagebump/acc/ghcr.io-acme-api")
        #expect(create.json?["close_source_branch"] as? Bool == true)
        let find = try #require(double.requests.first)
        #expect(
            find.query["q"]
                == "source.branch.name=\"imagebump/acc/ghcr.io-acme-api\" AND destination.branch.name=\"main\" AND state=\"OPEN\"")

        var newer = Self.content()
        newer.title = "Bump ghcr.io/acme/api to 1.4.3 in acc"
        let second = try await sync.ensure(newer)
        #expect(second.outcome == .updated)
        #expect(second.request.url == "https://bitbucket.org/acme/env/pull-requests/1")
        #expect(double.pulls.count == 1)
    }

    @Test func pagesAreFollowedByTheirNextLink() async throws {
        let double = try BitbucketDouble()
        defer { double.expectDocumentedExchanges() }
        for index in 1...120 {
            double.store.add(
                title: "pr \(index)", body: index == 120 ? "<!-- imagebump:target=acc image=ghcr.io/acme/api -->" : "", head: "b\(index)",
                base: "main")
        }
        let found = try await Self.forge(double).findOpenMergeRequest(
            head: "renamed", base: "main", marker: "<!-- imagebump:target=acc image=ghcr.io/acme/api -->")
        #expect(found?.number == 120)
        #expect(double.requests.filter { $0.query["state"] == "OPEN" }.count == 3)
    }

    @Test func labelsAndAutoMergeSayWhatToChange() async throws {
        let double = try BitbucketDouble()
        defer { double.expectDocumentedExchanges() }
        do {
            try await Self.forge(double).addLabels(1, ["x"])
            Issue.record("expected notAllowed")
        } catch {
            #expect(error.code == .notAllowed)
            #expect(error.message.contains("remove mergeRequest.labels"))
        }
    }

    @Test func anExpiredTokenIsAClearError() async throws {
        let double = try BitbucketDouble()
        defer { double.expectDocumentedExchanges() }
        do {
            _ = try await Self.forge(double, token: "old").findOpenMergeRequest(head: "h", base: "main", marker: "m")
            Issue.record("expected 401")
        } catch {
            #expect(error.code == .unauthorized)
            #expect(error.message == "Access token expired. Use your refresh token to obtain a new access token.")
        }
    }
}
