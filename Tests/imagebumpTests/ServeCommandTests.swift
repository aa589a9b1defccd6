import Foundation
import HTTPClient
import TestSupport
import Testing

/// `imagebump serve` as a process: start, accept a CI post, commit, stop on SIGTERM.
@Suite struct ServeCommandTests {
    @Test func servesCommitsAndStopsCleanlyOnSIGTERM() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-serve")
        let config = try ServeProcess.config(remote: remote, state: state)
        let token = ServeProcess.token
        let log = state.appendingPathComponent("serve.log")
        let (process, line, port, adminPort) = try await ServeProcess.start(config, logLevel: "info", log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(line.hasPrefix("listening on 127.0.0.1:"))
        let base = "http://127.0.0.1:\(port)"
        let admin = "http://127.0.0.1:\(adminPort)"

        let accepted = try await CurlClient().send(
            HTTPRequest(
                method: "POST", url: "\(base)/v1/events", headers: [("Authorization", "Bearer \(token)")],
                body: Array(#"{"image": "ghcr.io/acme/api:1.4.2"}"#.utf8)))
        #expect(accepted.status == 202)
        let deadline = ContinuousClock.now + .seconds(20)
        var status = ""
        while ContinuousClock.now < deadline, status != "done" {
            let list = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/events"))
            status =
                ((try JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first?[
                    "status"] as? String ?? ""
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status == "done")
        #expect(try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/dev/api/values.yaml"]).contains("tag: \"1.4.2\""))

        let list = try Command.run(CommandLineTests.binary.path, ["events", "list", "--server", admin])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("done      ghcr.io/acme/api:1.4.2"))
        let id = String(list.stdout.prefix { $0 != " " })
        let show = try Command.run(CommandLineTests.binary.path, ["events", "show", id, "--server", admin])
        #expect(show.stdout.contains("  received  from generic"))
        #expect(show.stdout.contains("  done  every target is up to date"))
        let missing = try Command.run(CommandLineTests.binary.path, ["events", "show", "no-such-id", "--server", admin])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("unknown event"))

        kill(process.processIdentifier, SIGTERM)
        let exited = try await blocking {
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(exited == 0)

        // Operators read one info line per thing that happened to the event.
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        let acceptedLines = lines.filter { $0.contains("event accepted") }
        let done = lines.filter { $0.contains("event done") }
        #expect(acceptedLines.count == 1 && acceptedLines.first?.contains("\(id)") == true, "\(lines)")
        #expect(done.count == 1 && done.first?.contains("commit=") == true && done.first?.contains("\(id)") == true, "\(lines)")
    }
}
