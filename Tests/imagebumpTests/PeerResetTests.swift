import Foundation
import HTTPClient
import TestSupport
import Testing

/// A Git server that resets the connection while a push is being sent: the event fails with
/// the transfer's error, retried as configured, and the process lives on (SIGPIPE is ignored;
/// no write to a reset peer may kill it).
@Suite struct PeerResetTests {
    static let token = "glpat-Reset-Pe3r-T0ken"

    @Test func aPushResetMidWayFailsTheEventAndTheServiceLivesOn() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let git = try await blocking { try GitHTTPBackend(root: remote.deletingLastPathComponent(), user: "imagebump", password: Self.token) }
        let proxy = try BackgroundServer(
            executable: "/usr/bin/env",
            arguments: ["python3", fixturesDirectory().appendingPathComponent("servers/reset-on-push.py").path, "\(git.port)"])
        let config = try ServeProcess.config(
            "imagebump-reset",
            """
            workers: {batchWindowMs: 0, attempts: 2}
            repos:
              - {name: env, url: "http://127.0.0.1:\(proxy.port)/\(remote.lastPathComponent)", username: imagebump, password: env:RESET_GIT_TOKEN}
            targets: [{name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}]
            images: [{name: ghcr.io/acme/api, targets: [dev]}]
            """)
        let (process, _, port, adminPort) = try await ServeProcess.start(config, environment: ["RESET_GIT_TOKEN": Self.token])
        defer { kill(process.processIdentifier, SIGKILL) }
        let accepted = try await CurlClient().send(
            HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/v1/events", headers: [("Authorization", "Bearer \(ServeProcess.token)")],
                body: Array(#"{"image": "ghcr.io/acme/api:1.4.2"}"#.utf8)))
        let id = try #require(
            ((try JSONSerialization.jsonObject(with: Data(accepted.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first?["id"]
                as? String)
        var event: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let response = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(adminPort)/v1/events/\(id)"))
            event = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
            if event["status"] as? String == "failed" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(event["status"] as? String == "failed", "\(event)")
        #expect(event["attempts"] as? Int == 2)
        #expect((event["lastError"] as? String)?.contains("dev: ") == true, "\(event["lastError"] ?? "")")
        #expect(process.isRunning)
        let health = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/healthz"))
        #expect(health.status == 200)
        // Nothing reached the branch.
        #expect(try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-list", "--count", "main"]) } == "1")
    }
}
