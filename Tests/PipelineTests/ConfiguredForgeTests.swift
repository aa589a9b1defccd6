import Configuration
import Forge
import Foundation
import Git
import Logging
import ImageReference
import Manifests
import Pipeline
import TestSupport
import Testing

/// Forges and Git remotes as the configuration sets them up: Bitbucket's two kinds of
/// credentials, and a GitHub App whose installation token is also the Git password.
@Suite struct ConfiguredForgeTests {
    @Test(arguments: [true, false])
    func bitbucketTakesAnAppPasswordWithItsUserOrAnAccessToken(withUser: Bool) async throws {
        let double = try BitbucketDouble(username: "ci-bot")
        defer { double.expectDocumentedExchanges() }
        setenv("IMAGEBUMP_TEST_BITBUCKET_TOKEN", double.token, 1)
        let configuration = try Configuration.parse(
            """
            repos:
              - name: env
                url: https://bitbucket.org/acme/env.git
                forge: {type: bitbucket, api: "\(double.apiURL)", project: acme/env, token: env:IMAGEBUMP_TEST_BITBUCKET_TOKEN\(withUser ? ", username: ci-bot" : "")}
            """, file: "c.yaml")
        let forge = try #require(try ConfiguredForge.make(for: "env", in: configuration, logger: .init(label: "test")))
        var content = MergeRequestContent(
            title: "Bump", body: "body <!-- m -->", head: "imagebump/acc/ghcr.io-acme-api", base: "main", marker: "<!-- m -->")
        content.draft = false
        _ = try await forge.openMergeRequest(content)
        let authorization = try #require(double.requests.first?.headers["authorization"])
        #expect(authorization.hasPrefix(withUser ? "Basic " : "Bearer "))
        #expect(double.pulls.count == 1)
    }

    @Test func aGitHubAppsInstallationTokenIsTheGitPassword() async throws {
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let remote = try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo"))
        // The Git server takes the App's first installation token, and nothing else.
        let server = try await blocking {
            try GitHTTPBackend(root: remote.deletingLastPathComponent(), user: "x-access-token", password: "ghs_installation1")
        }
        let key = try TemporaryDirectory.make("imagebump-app-key").appendingPathComponent("app.pem")
        try Command.succeed("/usr/bin/openssl", ["genrsa", "-out", key.path, "2048"])
        let configuration = try Configuration.parse(
            """
            repos:
              - name: env
                url: http://127.0.0.1:\(server.port)/\(remote.lastPathComponent)
                forge: {type: github, api: "\(github.apiURL)", project: acme/env, app: {id: "1234", installation: "42", privateKey: "file:\(key.path)"}}
            targets: [{name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}]
            images: [{name: ghcr.io/acme/api, targets: [dev]}]
            """, file: "c.yaml")
        let target = try #require(try GitTarget.targets(for: ImageName(parsing: "ghcr.io/acme/api"), in: configuration).first)
        #expect(target.password != nil)
        let state = try TemporaryDirectory.make("imagebump-app-push")
        let updater = TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path)))
        let update = try await updater.update(
            BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: target, forge: nil, options: MergeRequestOptions(),
            trigger: Trigger(source: "test", time: "now", eventID: "app-1"))
        #expect(update.writeBack.outcome == .pushed)
        #expect(github.requests.filter { $0.path == "/app/installations/42/access_tokens" }.count == 1)
        let pushed = try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-parse", "main"]) }
        #expect(pushed == update.writeBack.commit?.hex)
    }
}
