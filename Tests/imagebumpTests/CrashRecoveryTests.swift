import Foundation
import HTTPClient
import Journal
import Postgres
import Synchronization
import TestSupport
import Testing

/// `kill -9` in the middle of a burst: after a restart every accepted event is finished, none
/// is lost and none is applied twice.
@Suite struct CrashRecoveryTests {
    static let token = ServeProcess.token

    /// On either journal: the SQLite file, or a PostgreSQL database (`journal.url`).
    @Test(arguments: JournalBackend.allCases)
    func everyAcceptedEventIsFinishedExactlyOnceAfterAKill(backend: JournalBackend) async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-crash")
        let location = try await backend.freshLocation()
        let config = try ServeProcess.config(remote: remote, state: state, journal: backend == .postgres ? location : nil)

        let (first, _, port, _) = try await ServeProcess.start(config)
        let accepted = Collected()
        await withTaskGroup(of: Void.self) { group in
            for index in 1...30 {
                group.addTask {
                    let body = Array(#"{"image": "ghcr.io/acme/api", "tag": "3.0.\#(index)"}"#.utf8)
                    guard
                        let response = try? await CurlClient().send(
                            HTTPRequest(
                                method: "POST", url: "http://127.0.0.1:\(port)/v1/events",
                                headers: [("Authorization", "Bearer \(Self.token)")], body: body)),
                        response.status == 202,
                        let id =
                            (((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["events"]
                            as? [[String: Any]])?.first?["id"] as? String
                    else { return }
                    accepted.ids.withLock { $0.append(id) }
                }
            }
        }
        kill(first.processIdentifier, SIGKILL)
        _ = try await blocking {
            first.waitUntilExit()
            return first.terminationStatus
        }
        let ids = accepted.ids.withLock { $0 }
        #expect(ids.count == 30, "every request was answered 202 before the kill")

        let (second, _, _, secondPort) = try await ServeProcess.start(config)
        defer { kill(second.processIdentifier, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(60)
        var statuses: [String: String] = [:]
        while ContinuousClock.now < deadline {
            let list = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(secondPort)/v1/events?limit=100"))
            let events = ((try JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any])?["events"] as? [[String: Any]]) ?? []
            statuses = Dictionary(
                events.compactMap { event in (event["id"] as? String).map { ($0, event["status"] as? String ?? "") } },
                uniquingKeysWith: { a, _ in a })
            if ids.allSatisfy({ ["done", "failed", "superseded", "skipped"].contains(statuses[$0] ?? "") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        // Finished: written, or superseded by a newer tag in its batch, or skipped as older than
        // what was written; none failed, none lost. The newest tag is what dev runs.
        #expect(
            ids.allSatisfy { ["done", "superseded", "skipped"].contains(statuses[$0] ?? "") },
            "statuses: \(ids.map { statuses[$0] ?? "missing" })")
        #expect(ids.contains { statuses[$0] == "done" })
        let values = try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/dev/api/values.yaml"])
        #expect(values.contains("3.0.30"), "\(values)")
        // None applied twice: an event's trailer appears in at most one commit.
        let trailers = try GitFixture.git(["--git-dir", remote.path, "log", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"])
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(Set(trailers).count == trailers.count)
        #expect(Set(trailers).isSubset(of: Set(ids)))
        if case .postgres(let url, let password) = location {
            // The events are in PostgreSQL, and nothing was written to the state directory's SQLite file.
            let count = try await blocking { try PostgresConnection(url: url, password: password).execute("SELECT count(*) FROM events") }
            #expect(count.first?.first == "30")
            #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("state/journal.sqlite").path))
        }
    }
}

/// `journal.url` from a secret (a Kubernetes Secret's variable) is checked when serve resolves
/// it: one with a password in it is refused at start, naming the key and never the password.
@Suite struct JournalURLSecretTests {
    @Test func aURLFromASecretWithAPasswordIsRefusedAtStart() async throws {
        let config = try ServeProcess.config(
            "imagebump-url-secret",
            """
            journal: {url: env:IMAGEBUMP_TEST_DB_URL}
            repos: [{name: env, url: /nonexistent/env.git}]
            targets: [{name: dev, repo: env}]
            images: [{name: ghcr.io/acme/api, targets: [dev]}]
            """)
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEBUMP_TEST_CI_TOKEN"] = ServeProcess.token
        environment["IMAGEBUMP_TEST_DB_URL"] = "postgres://imagebump:hunter2-secret@127.0.0.1:1/imagebump"
        let result = try await Command.running(
            CommandLineTests.binary.path, ["serve", "--config", config.path, "--port", "0", "--admin-port", "0"], environment: environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains("journal.url (env:IMAGEBUMP_TEST_DB_URL): a password in the URL"), "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
    }
}

/// Event ids collected from concurrent requests.
final class Collected: Sendable {
    let ids = Mutex<[String]>([])
}
