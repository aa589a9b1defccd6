import Foundation
import TestSupport
import Testing

/// `imagebump bump --config` in branch mode: a real bare repository and the GitHub double.
@Suite struct MergeRequestCommandTests {
    @Test func oneMergeRequestIsOpenedThenUpdatedThenLeftAlone() throws {
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-state")
        let config = state.appendingPathComponent("imagebump.yaml")
        try String(contentsOf: CommandLineTests.fixtures.appendingPathComponent("forge-config.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "REMOTE", with: remote.path).replacingOccurrences(
                of: "STATE", with: state.appendingPathComponent("state").path
            )
            .replacingOccurrences(of: "API", with: github.apiURL).write(to: config, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEBUMP_TEST_GITHUB_TOKEN"] = github.token
        func bump(_ tag: String) throws -> Command.Result {
            try Command.run(
                CommandLineTests.binary.path, ["bump", "ghcr.io/acme/api:\(tag)", "--config", config.path, "--log-level", "debug"],
                environment: environment)
        }

        let first = try bump("1.4.2")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("acc: pushed "))
        #expect(
            first.stdout.contains(
                "to imagebump/acc/ghcr.io-acme-api (2 changes); merge request #1 created https://github.com/acme/env/pull/1"))
        #expect(github.pulls.count == 1)
        let pull = try #require(github.pulls.first)
        #expect(pull.title == "Bump ghcr.io/acme/api to 1.4.2 in acc")
        #expect(pull.head == "imagebump/acc/ghcr.io-acme-api")
        #expect(pull.base == "main")
        #expect(pull.body.contains("| `envs/acc/api/deployment.yaml` | 13 | `1.4.1` | `1.4.2` |"))
        #expect(pull.body.hasSuffix("<!-- imagebump:target=acc image=ghcr.io/acme/api -->"))
        #expect(pull.body.contains("Triggered by imagebump bump (command line) at 20"))
        #expect(pull.labels == ["imagebump", "acc"])
        #expect(pull.reviewers == ["alice"])
        #expect(pull.autoMerge)
        #expect(!first.stderr.contains(github.token), "the token leaked into the log")

        let second = try bump("1.4.3")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("merge request #1 updated"))
        #expect(github.pulls.count == 1)
        #expect(github.pulls.first?.title == "Bump ghcr.io/acme/api to 1.4.3 in acc")
        #expect(try GitFixture.git(["--git-dir", remote.path, "rev-list", "--count", "main..imagebump/acc/ghcr.io-acme-api"]) == "1")

        let writes = github.requests.filter { $0.method != "GET" }.count
        let head = try GitFixture.git(["--git-dir", remote.path, "rev-parse", "imagebump/acc/ghcr.io-acme-api"])
        let third = try bump("1.4.3")
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("acc: already up to date on imagebump/acc/ghcr.io-acme-api; merge request #1 unchanged"))
        #expect(github.requests.filter { $0.method != "GET" }.count == writes)
        #expect(try GitFixture.git(["--git-dir", remote.path, "rev-parse", "imagebump/acc/ghcr.io-acme-api"]) == head)
    }
}
