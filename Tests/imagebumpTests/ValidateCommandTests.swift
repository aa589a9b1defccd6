import Foundation
import TestSupport
import Testing

/// `validate` checks what `serve` checks before it listens, and explains the chains it read.
@Suite struct ValidateCommandTests {
    static func config(_ text: String) throws -> URL {
        let file = try TemporaryDirectory.make("imagebump-validate").appendingPathComponent("c.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func whatServeBuildsFromTheFileIsCheckedToo() async throws {
        let file = try Self.config(
            """
            repos: [{name: env, url: "ssh://git@git.example.com/env.git", sshKey: env:IMAGEBUMP_TEST_KEY, knownHosts: /nonexistent/known_hosts}]
            targets: [{name: dev, repo: env}]
            images: [{name: ghcr.io/acme/api}]
            """)
        let result = try await Command.running(
            CommandLineTests.binary.path, ["validate", "--config", file.path], environment: ["IMAGEBUMP_TEST_KEY": "not-a-real-key"])
        #expect(result.status == 2)
        #expect(result.stderr == "\(file.path): repo env: the known_hosts file /nonexistent/known_hosts cannot be read\n")
        #expect(result.stdout == "\(file.path): 1 problem\n")
        // --no-secrets skips what needs them.
        #expect(try await Command.running(CommandLineTests.binary.path, ["validate", "--config", file.path, "--no-secrets"]).status == 0)
    }

    @Test func explainPrintsTheChainAsUnderstood() async throws {
        let file = try Self.config(
            """
            server: {admin: {token: env:ADMIN}}
            repos: [{name: env, url: /srv/env.git, forge: {type: gitlab, project: acme/env, token: env:GL}}]
            targets:
              - {name: dev, repo: env}
              - {name: acc, repo: env, mode: branch}
              - {name: prd, repo: env}
            images: [{name: ghcr.io/acme/api}, {name: ghcr.io/acme/web, targets: [dev]}]
            promotions:
              - name: api-release
                images: [ghcr.io/acme/api]
                steps:
                  - {target: dev, gate: {smoke: {checks: [{url: "https://dev.example.com/healthz"}], timeoutSeconds: 120}}}
                  - {target: acc, gate: manual}
                  - {target: prd}
            """)
        let result = try await Command.running(CommandLineTests.binary.path, ["validate", "--config", file.path, "--no-secrets", "--explain"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                ghcr.io/acme/api: image events write to dev; promoted by api-release
                ghcr.io/acme/web: image events write to dev
                promotion api-release (ghcr.io/acme/api):
                  1. dev (commit): image events write here; then 1 smoke check passing (within 120 s), before acc gets the tag
                  2. acc (branch: a merge request): written once dev's gates passed; then a manual approval (imagebump promotions approve ID), then its merge request merged, before prd gets the tag
                  3. prd (commit): written once acc's gates passed; nothing to wait for, the last environment
                \(file.path): valid (1 repos, 3 targets, 2 images)

                """)
    }

    @Test func aBadStatusIsAUsageError() async throws {
        let result = try await Command.running(CommandLineTests.binary.path, ["events", "list", "--status", "finished"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("use one of received, committed, done, failed, ignored, skipped, superseded"))
        let help = try await Command.running(CommandLineTests.binary.path, ["events", "list", "--help"])
        #expect(help.stdout.contains("superseded"))
    }

    @Test func retryNamesTheMissingVariable() async throws {
        let file = try Self.config("server: {admin: {token: env:IMAGEBUMP_UNSET_ADMIN_TOKEN}}\n")
        let result = try await Command.running(CommandLineTests.binary.path, ["events", "retry", "0123", "--config", file.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("IMAGEBUMP_UNSET_ADMIN_TOKEN is not set"), "\(result.stderr)")
    }
}
