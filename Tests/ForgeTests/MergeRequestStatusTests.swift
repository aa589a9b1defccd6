import Forge
import Foundation
import TestSupport
import Testing

/// Reading a merge request back (the fallback when its webhook never arrives) and closing one,
/// against each forge's double: open, merged (with the head commit it ended at), closed without
/// merging, and a number the forge does not know.
@Suite struct MergeRequestStatusTests {
    /// One forge under test: a new double and its client, and the `GET` path of request 1.
    struct Subject: Sendable, CustomStringConvertible {
        let description: String
        let make: @Sendable () throws -> (forge: any Forge, double: any ForgeDouble)
        let path: String

        init<Double: ForgeDouble>(
            _ description: String, _ double: @escaping @Sendable () throws -> Double,
            _ client: @escaping @Sendable (Double) -> any Forge, path: String
        ) {
            self.description = description
            make = {
                let made = try double()
                return (client(made), made)
            }
            self.path = path
        }
    }

    static let subjects: [Subject] = [
        Subject("GitHub", { try GitHubDouble() }, { GitHubForgeTests.forge($0) }, path: "/repos/acme/env/pulls/1"),
        Subject("GitLab", { try GitLabDouble() }, { GitLabForgeTests.forge($0) }, path: "/api/v4/projects/acme%2Fenv/merge_requests/1"),
        Subject("Gitea", { try GiteaDouble() }, { GiteaForgeTests.forge($0) }, path: "/api/v1/repos/acme/env/pulls/1"),
        Subject(
            "Bitbucket", { try BitbucketDouble() }, { BitbucketForgeTests.forge($0) }, path: "/2.0/repositories/acme/env/pullrequests/1"),
    ]

    @Test(arguments: subjects) func openMergedClosedAndUnknown(_ subject: Subject) async throws {
        let (forge, double) = try subject.make()
        let store = double.store
        store.add(title: "Bump", body: "b", head: "imagebump/acc/ghcr.io-acme-api", base: "main")
        store.add(title: "Bump", body: "b", head: "imagebump/acc/ghcr.io-acme-worker", base: "main")

        let open = try await forge.mergeRequestStatus(1)
        #expect(open.state == .open)
        #expect(double.requests.last.map { "\($0.method) \($0.target)" } == "GET \(subject.path)")

        let head = String(repeating: "c", count: 40)
        store.finish(1, merged: true, headSHA: head)
        #expect(try await forge.mergeRequestStatus(1) == MergeRequestStatus(number: 1, state: .merged, headCommit: head))

        try await forge.closeMergeRequest(2)  // closed by imagebump, without merging
        #expect(store.pulls[1].state == "closed")
        #expect(!store.pulls[1].merged)
        #expect(try await forge.mergeRequestStatus(2).state == .closed)

        do {
            _ = try await forge.mergeRequestStatus(99)
            Issue.record("a request the forge does not know has no status")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.operation.hasSuffix("99"))
        }
    }
}
