import Foundation
import HTTPClient
import TestSupport
import Testing

/// `imagebump journal backup FILE` while `serve` runs (the service writes the copy) and after
/// it stopped (the CLI copies the file itself); the copy holds the events.
@Suite struct JournalCommandTests {
    @Test func aBackupWhileServingAndAfterwards() async throws {
        let remote = try await blocking { try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo")) }
        let state = try TemporaryDirectory.make("imagebump-journal-backup")
        let config = try ServeProcess.config(remote: remote, state: state)
        let (process, _, port, adminPort) = try await ServeProcess.start(config)
        #expect(try await ServeProcess.postEvent("ghcr.io/acme/api:1.4.2", port: port).status == 202)
        let directory = try TemporaryDirectory.make("imagebump-backups")
        let environment = ["IMAGEBUMP_TEST_ADMIN_TOKEN": ServeProcess.adminToken, "PATH": "/usr/bin:/bin"]
        func backup(_ name: String) async throws -> Command.Result {
            try await blocking {
                try Command.run(
                    CommandLineTests.binary.path,
                    ["journal", "backup", directory.appendingPathComponent(name).path, "--config", config.path, "--server", "http://127.0.0.1:\(adminPort)"],
                    environment: environment)
            }
        }
        let live = try await backup("live.sqlite")
        #expect(live.status == 0, "\(live.stderr)")
        #expect(live.stdout.hasPrefix("backed up the running journal to \(directory.path)/live.sqlite"))
        // Never over an existing file.
        let again = try await backup("live.sqlite")
        #expect(again.status == 2)
        #expect(again.stderr.contains("exists; a backup never overwrites a file"))
        kill(process.processIdentifier, SIGTERM)
        _ = try await blocking { process.waitUntilExit() }
        let offline = try await backup("offline.sqlite")
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.contains("no service answered"))
        // Both copies are journals with the event: a service started on one finds it.
        for name in ["live.sqlite", "offline.sqlite"] {
            let restored = try TemporaryDirectory.make("imagebump-restored")
            try FileManager.default.createDirectory(at: restored.appendingPathComponent("state"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: directory.appendingPathComponent(name), to: restored.appendingPathComponent("state/journal.sqlite"))
            let copy = try ServeProcess.config(remote: remote, state: restored)
            let (server, _, _, admin) = try await ServeProcess.start(copy)
            defer { kill(server.processIdentifier, SIGKILL) }
            let events = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(admin)/v1/events")).bodyText
            #expect(events.contains("ghcr.io/acme/api"), "\(name): \(events)")
        }
    }
}
