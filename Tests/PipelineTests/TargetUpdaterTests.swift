import Forge
import Foundation
import Git
import HTTPClient
import ImageReference
import Manifests
import Pipeline
import TestSupport
import Testing

@Suite struct TargetUpdaterTests {
    @Test func aPersonsCommitOnTheBranchGetsACommentNotAnOverwrite() async throws {
        let remote = try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo"))
        let state = try TemporaryDirectory.make("imagebump-state")
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let forge = GitHubForge(
            transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "Bearer \(github.token)")]),
            apiBaseURL: github.apiURL, repository: "acme/env")
        let updater = TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path)))
        let target = GitTarget(
            name: "acc", repository: "env", url: remote.path, branch: "main", paths: [try PathGlob("envs/acc/**")], mode: .branch)

        let first = try await updater.update(
            try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: target, forge: forge,
            options: MergeRequestOptions(), trigger: Trigger(source: "test", time: "2026-11-23T08:00:00Z", eventID: "e1"))
        #expect(first.mergeRequestOutcome == .created)

        try GitFixture.pushChange(to: remote, branch: "imagebump/acc/ghcr.io-acme-api", message: "a person's fix") { work in
            try Data("fix\n".utf8).write(to: work.appendingPathComponent("FIX"))
        }
        await #expect(throws: WriteBackError.self) {
            _ = try await updater.update(
                try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.3")), target: target, forge: forge,
                options: MergeRequestOptions(), trigger: Trigger(source: "test", time: "2026-11-23T08:00:00Z", eventID: "e2"))
        }
        #expect(github.pulls.count == 1)
        #expect(github.pulls.first?.title == "Bump ghcr.io/acme/api to 1.4.2 in acc")
        let comment = try #require(github.pulls.first?.comments.first)
        #expect(comment.hasPrefix("imagebump did not move this branch to `ghcr.io/acme/api:1.4.3`"))
    }
}
