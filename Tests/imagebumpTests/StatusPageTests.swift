import Foundation
import HTTPClient
import TestSupport
import Testing

extension HeavyPeers {
    /// The status page in a real browser: headless Chromium driven by Selenium
    /// (`Fixtures/status-page/browse.py`) against a running `imagebump serve` with a promotion
    /// waiting for approval and a failed event. `IMAGEBUMP_UPDATE_SCREENSHOT=1` writes the
    /// screenshot to `docs/status-page.png`.
    @Suite struct StatusPageTests {
        @Test func anOperatorSeesTheMatrixApprovesAndRetries() async throws {
            let remote = try await blocking { try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo")) }
            let state = try TemporaryDirectory.make("imagebump-status-page")
            let config = state.appendingPathComponent("serve.yaml")
            try """
                stateDir: \(state.appendingPathComponent("state").path)
                server: {listen: 127.0.0.1, admin: {token: env:IMAGEBUMP_TEST_ADMIN_TOKEN}}
                receivers: [{name: ci, type: generic, secret: env:IMAGEBUMP_TEST_CI_TOKEN}]
                workers: {batchWindowMs: 0, attempts: 1}
                repos: [{name: env, url: \(remote.path)}, {name: gone, url: /nonexistent/imagebump-status-page.git}]
                targets:
                  - {name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}
                  - {name: acc, repo: env, paths: ["envs/acc/**"], mode: commit}
                  - {name: prd, repo: env, paths: ["envs/prd/**"], mode: commit}
                  - {name: lab, repo: gone, mode: commit}
                images: [{name: ghcr.io/acme/api, targets: [dev, acc, prd]}, {name: ghcr.io/acme/worker, targets: [lab]}]
                promotions:
                  - name: api-release
                    images: [ghcr.io/acme/api]
                    steps:
                      - {target: dev}
                      - {target: acc, gate: manual}
                      - {target: prd}
                """.write(to: config, atomically: true, encoding: .utf8)
            let (process, _, port, adminPort) = try await ServeProcess.start(config)
            defer { kill(process.processIdentifier, SIGKILL) }
            let admin = "http://127.0.0.1:\(adminPort)"
            for image in ["ghcr.io/acme/api:1.4.2", "ghcr.io/acme/worker:2.0.0"] {
                #expect(try await ServeProcess.postEvent(image, port: port).status == 202)
            }
            // Until the promotion waits in acc and the worker's event failed (at most 30 s).
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let promotions = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/promotions?open=true")).bodyText
                let failed = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/events?status=failed")).bodyText
                if promotions.contains("waiting-for-approval"), failed.contains("ghcr.io/acme/worker") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let update = ProcessInfo.processInfo.environment["IMAGEBUMP_UPDATE_SCREENSHOT"] == "1"
            let screenshot =
                update
                ? PythonTools.root.appendingPathComponent("docs/status-page.png").path
                : try TemporaryDirectory.make("imagebump-status-page-shot").appendingPathComponent("status-page.png").path
            let script = fixturesDirectory().appendingPathComponent("status-page/browse.py").path
            let python = try PythonTools.program("python")
            let result = try await blocking { try Command.run(python, [script, admin, ServeProcess.adminToken, screenshot]) }
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: screenshot))
        }

        @Test func thePageIsHTMLWithoutScriptsOrOutsideAssets() async throws {
            let remote = try await blocking { try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo")) }
            let config = try ServeProcess.config(remote: remote, state: try TemporaryDirectory.make("imagebump-status-html"))
            let (process, _, port, adminPort) = try await ServeProcess.start(config)
            defer { kill(process.processIdentifier, SIGKILL) }
            let page = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(adminPort)/?image=%3Cscript%3E"))
            #expect(page.status == 200)
            #expect(page.header("content-type") == "text/html; charset=utf-8")
            #expect(page.header("content-security-policy")?.contains("default-src 'none'") == true)
            #expect(!page.bodyText.contains("<script"))
            #expect(!page.bodyText.contains("src=\"http"))
            #expect(page.bodyText.contains("<table id=\"matrix\">"))
            // A form post from another site is refused before the token is even looked at.
            let forged = try await CurlClient().send(
                HTTPRequest(
                    method: "POST", url: "http://127.0.0.1:\(adminPort)/ui/events/0000/retry",
                    headers: [("Origin", "https://evil.example"), ("Content-Type", "application/x-www-form-urlencoded")],
                    body: Array("token=\(ServeProcess.adminToken)".utf8)))
            #expect(forged.status == 403)
            // The public port has no status page.
            #expect(try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/")).status == 404)
        }
    }
}
