import Foundation
import HTTPClient
import TestSupport
import Testing

/// A promotion through `imagebump serve` and `imagebump promotions list|show|approve`.
@Suite struct PromotionsCommandTests {
    func promotions(_ base: String) async throws -> [[String: Any]] {
        let response = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(base)/v1/promotions"))
        return ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["promotions"] as? [[String: Any]]) ?? []
    }

    func waitFor(_ state: String, _ base: String) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let first = try await promotions(base).first, first["state"] as? String == state { return first }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw GitFixture.Failure(description: "no promotion reached \(state): \(try await promotions(base))")
    }

    /// The fixture `name` with REMOTE, STATE (and API) filled in, written beside a new state directory.
    func configuration(_ name: String, remote: URL, api: String = "") throws -> URL {
        let state = try TemporaryDirectory.make("imagebump-promote")
        let config = state.appendingPathComponent(name)
        try String(contentsOf: CommandLineTests.fixtures.appendingPathComponent(name), encoding: .utf8)
            .replacingOccurrences(of: "REMOTE", with: remote.path).replacingOccurrences(
                of: "STATE", with: state.appendingPathComponent("state").path
            )
            .replacingOccurrences(of: "API", with: api).write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Runs the imagebump CLI with the tests' tokens in its environment.
    func imagebump(_ arguments: [String]) async throws -> Command.Result {
        let environment = ProcessInfo.processInfo.environment.merging([
            "IMAGEBUMP_TEST_CI_TOKEN": ServeProcess.token, "IMAGEBUMP_TEST_ADMIN_TOKEN": ServeProcess.adminToken,
        ]) { _, new in new }
        return try await blocking { try Command.run(CommandLineTests.binary.path, arguments, environment: environment) }
    }

    func post(_ tag: String, _ base: String) async throws -> HTTPResponse {
        try await CurlClient().send(
            HTTPRequest(
                method: "POST", url: "\(base)/v1/events", headers: [("Authorization", "Bearer \(ServeProcess.token)")],
                body: Array(#"{"image": "ghcr.io/acme/api:\#(tag)"}"#.utf8)))
    }

    @Test func aReleaseWaitsForApprovalThenReachesProduction() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let config = try configuration("promotion.yaml", remote: remote)
        let log = config.deletingLastPathComponent().appendingPathComponent("serve.log")
        let (process, _, port, adminPort) = try await ServeProcess.start(config, logLevel: "info", log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        let admin = "http://127.0.0.1:\(adminPort)"

        #expect(try await post("1.4.2", base).status == 202)
        let waiting = try await waitFor("waiting-for-approval", admin)
        let id = try #require(waiting["id"] as? String)
        #expect(waiting["environment"] as? String == "acc")
        #expect(
            try await blocking { try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/prd/api/values.yaml"]) }.contains(
                "tag: \"1.4.1\""))

        let list = try await imagebump(["promotions", "list", "--open", "--server", admin])
        #expect(list.stdout.contains("\(id)  waiting-for-approval ghcr.io/acme/api:1.4.2  in acc  (api-release)"), "\(list.stdout)")
        // Per image: what each environment runs now, and what waits where.
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "ghcr.io/acme/api (api-release)", "\(list.stdout)")
        #expect(lines.contains { $0.hasPrefix("  dev  runs 1.4.2  since ") && $0.contains("(commit ") }, "\(list.stdout)")
        #expect(lines.contains { $0.hasPrefix("  acc  runs 1.4.2  since ") }, "\(list.stdout)")
        #expect(lines.contains { $0.hasPrefix("       ← 1.4.2  waiting-for-approval (gate manual), ") && $0.hasSuffix("[\(id)]") }, "\(list.stdout)")
        #expect(lines.contains("  prd  runs ? (imagebump has written no tag there yet)"), "\(list.stdout)")
        let unauthorized = try await CurlClient().send(HTTPRequest(method: "POST", url: "\(admin)/v1/promotions/\(id)/approve", body: []))
        #expect(unauthorized.status == 401)
        // A captured CI delivery replayed as an approval: the receiver's token approves nothing,
        // and the public port has no such route at all.
        let replayed = try await CurlClient().send(
            HTTPRequest(
                method: "POST", url: "\(admin)/v1/promotions/\(id)/approve", headers: [("Authorization", "Bearer \(ServeProcess.token)")],
                body: []))
        #expect(replayed.status == 401)
        let onPublic = try await CurlClient().send(
            HTTPRequest(
                method: "POST", url: "\(base)/v1/promotions/\(id)/approve", headers: [("Authorization", "Bearer \(ServeProcess.adminToken)")],
                body: []))
        #expect(onPublic.status == 404)
        #expect(try await CurlClient().send(HTTPRequest(method: "GET", url: "\(base)/v1/promotions")).status == 404)

        let approve = try await imagebump(["promote", "approve", id, "--server", admin, "--config", config.path])
        #expect(approve.status == 0, "\(approve.stderr)")
        let done = try await waitFor("done", admin)
        #expect(done["environment"] as? String == "prd")
        #expect(
            try await blocking { try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/prd/api/values.yaml"]) }.contains(
                "tag: \"1.4.2\""))

        let show = try await imagebump(["promotions", "show", id, "--server", admin])
        #expect(show.stdout.contains("  acc  waiting-for-approval  1.4.2 is in acc; waiting for approval"), "\(show.stdout)")
        #expect(show.stdout.contains("  prd  done  "))
        let again = try await imagebump(["promotions", "approve", id, "--server", admin, "--config", config.path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("not approvable"))

        // The log tells the story, one info line per step, each naming the promotion.
        let story = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("promotion=\(id)") }
        for step in ["promotion started", "promotion waiting-for-approval", "promotion promoting", "promotion done"] {
            #expect(story.contains { $0.contains("msg=\"\(step)\"") && $0.contains("tag=1.4.2") }, "\(step) in \(story)")
        }
    }

    @Test func aMergedGateLearnsOfTheMergeFromTheForgeWhenNoWebhookCame() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let config = try configuration("promotion-merged.yaml", remote: remote, api: github.apiURL)
        let (process, _, port, adminPort) = try await ServeProcess.start(
            config, environment: ["IMAGEBUMP_TEST_GITHUB_TOKEN": github.token])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        let admin = "http://127.0.0.1:\(adminPort)"

        #expect(try await post("1.4.2", base).status == 202)
        let waiting = try await waitFor("waiting-for-merge", admin)
        #expect(waiting["environment"] as? String == "acc")
        #expect((waiting["mergeRequest"] as? [String: Any])?["number"] as? Int == 1)
        let before = try await imagebump(["promotions", "list", "--server", admin])
        #expect(before.stdout.contains("  acc  runs ? (imagebump has written no tag there yet)"), "\(before.stdout)")
        #expect(before.stdout.contains("← 1.4.2  waiting-for-merge (gate merged, merge request #1), "), "\(before.stdout)")
        let branch = "imagebump/acc/ghcr.io-acme-api"
        let tip = try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-parse", branch]) }
        github.store.finish(1, merged: true, headSHA: tip)  // merged on the forge; its webhook never comes

        let done = try await waitFor("done", admin)
        #expect(done["environment"] as? String == "prd")
        #expect(
            try await blocking { try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/prd/api/values.yaml"]) }.contains(
                "tag: \"1.4.2\""))
        // acc runs the tag since the merge the poller saw.
        let list = try await imagebump(["promotions", "list", "--server", admin])
        #expect(list.stdout.contains("  acc  runs 1.4.2  since "), "\(list.stdout)")
        #expect(list.stdout.contains("(merge request #1)"), "\(list.stdout)")
        // The branch goes right after the promotion moved on.
        let deadline = ContinuousClock.now + .seconds(10)
        var branches = "?"
        while !branches.isEmpty, ContinuousClock.now < deadline {
            branches = try await blocking { try GitFixture.git(["--git-dir", remote.path, "branch", "--list", "imagebump/*"]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(branches.isEmpty)
        #expect(github.requests.contains { $0.method == "GET" && $0.path == "/repos/acme/env/pulls/1" })
        // The metrics say so: forge requests by host and status, promotions by state, each with its # HELP.
        let metrics = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/metrics")).bodyText
        let host = URLComponents(string: github.apiURL).map { "\($0.host ?? ""):\($0.port ?? 0)" } ?? ""
        #expect(metrics.contains("imagebump_forge_requests_total{host=\"\(host)\",status=\"201\"}"), "\(metrics)")
        #expect(metrics.contains("imagebump_forge_request_duration_seconds_count{host=\"\(host)\"}"))
        #expect(metrics.contains("imagebump_build_info{version=\"0.1.0\"} 1"))
        #expect(metrics.contains("imagebump_promotions{state=\"done\"}"))
        #expect(metrics.contains("imagebump_journal_bytes "))
        let types = metrics.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(!types.isEmpty)
        for name in types { #expect(metrics.contains("# HELP \(name) "), "\(name) has no # HELP line") }
    }

    @Test func aRestartCatchesUpWithAMergeMissedMeanwhileWithinSeconds() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        // Polled every five minutes: only the first round soon after start can catch up in time.
        let config = try configuration("promotion-merged.yaml", remote: remote, api: github.apiURL)
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "mergePollSeconds: 1", with: "mergePollSeconds: 300")
            .write(to: config, atomically: true, encoding: .utf8)
        let environment = ["IMAGEBUMP_TEST_GITHUB_TOKEN": github.token]
        let (first, _, port, adminPort) = try await ServeProcess.start(config, environment: environment)
        #expect(try await post("1.4.2", "http://127.0.0.1:\(port)").status == 202)
        _ = try await waitFor("waiting-for-merge", "http://127.0.0.1:\(adminPort)")
        kill(first.processIdentifier, SIGKILL)
        _ = try await blocking {
            first.waitUntilExit()
            return first.terminationStatus
        }
        // Merged on the forge while imagebump is down; its webhook is lost.
        let tip = try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-parse", "imagebump/acc/ghcr.io-acme-api"]) }
        github.store.finish(1, merged: true, headSHA: tip)

        let (second, _, _, secondAdmin) = try await ServeProcess.start(config, environment: environment)
        defer { kill(second.processIdentifier, SIGKILL) }
        let done = try await waitFor("done", "http://127.0.0.1:\(secondAdmin)")
        #expect(done["environment"] as? String == "prd")
    }

    @Test func anOperatorCancelsAPromotionThroughTheAdminListener() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let config = try configuration("promotion.yaml", remote: remote)
        let (process, _, port, adminPort) = try await ServeProcess.start(config)
        defer { kill(process.processIdentifier, SIGKILL) }
        let admin = "http://127.0.0.1:\(adminPort)"
        #expect(try await post("1.4.2", "http://127.0.0.1:\(port)").status == 202)
        let id = try #require(try await waitFor("waiting-for-approval", admin)["id"] as? String)
        let cancel = try await imagebump(["promotions", "cancel", id, "--server", admin, "--config", config.path])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout.contains("cancelled"))
        let approve = try await imagebump(["promotions", "approve", id, "--server", admin, "--config", config.path])
        #expect(approve.status == 1)
        let retry = try await imagebump(["promotions", "retry", id, "--server", admin, "--config", config.path])
        #expect(retry.status == 1)
        #expect(retry.stderr.contains("only failed promotions are retried"))
    }
}
