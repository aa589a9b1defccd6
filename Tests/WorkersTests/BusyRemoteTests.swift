import Events
import Foundation
import Git
import ImageReference
import Workers
import Journal
import Manifests
import Pipeline
import Synchronization
import TestSupport
import Testing

/// A busy repository: an outside clone pushes to the same branch every 100 ms for a minute,
/// through the same real smart-HTTP remote (`git http-backend` behind lighttpd), while events stream in. A push
/// refused because the branch moved is redone at once on the new tip: every event ends done,
/// and no outside commit is lost.
@Suite(.serialized) struct BusyRemoteTests {
    /// How long the outside writer pushes, and how often (`IMAGEBUMP_BUSY_SECONDS`,
    /// `IMAGEBUMP_BUSY_PERIOD_MS` change them for a longer or harder run by hand).
    static let duration: Duration = .seconds(Int(ProcessInfo.processInfo.environment["IMAGEBUMP_BUSY_SECONDS"] ?? "60") ?? 60)
    static let period: Duration = .milliseconds(Int(ProcessInfo.processInfo.environment["IMAGEBUMP_BUSY_PERIOD_MS"] ?? "100") ?? 100)
    static let token = "glpat-Busy-R3mote-T0ken"

    @Test func everyEventLandsWhileAnOutsideWriterKeepsPushing() async throws {
        let remote = try GitFixture.bareRepository(from: APIRelease.environmentRepository)
        let server = try await blocking { try GitHTTPBackend(root: remote.deletingLastPathComponent(), user: "imagebump", password: Self.token) }
        let state = try TemporaryDirectory.make("imagebump-busy")
        let journal = try Journal(testing: state.appendingPathComponent("journal.sqlite").path)
        let api = try ImageName(parsing: "ghcr.io/acme/api")
        let route = Route(
            target: GitTarget(
                name: "dev", repository: "env", url: "http://127.0.0.1:\(server.port)/\(remote.lastPathComponent)", branch: "main",
                paths: [try PathGlob("envs/dev/**")], mode: .commit,
                credentials: GitCredentials(method: .userPassword(user: "imagebump", password: Self.token))),
            forge: nil, options: MergeRequestOptions())
        let dispatcher = Dispatcher(
            journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
            // The service's own retry settings (5 tries, waits from 1 s): a loaded machine widens
            // the window another writer can slip into, and a wait lets the burst pass.
            routes: { $0 == api ? [route] : [] }, attempts: 5, baseDelay: .seconds(1), batchWindow: .zero)

        // The outside writer: its own clone, a commit and a push every 100 ms (rebasing when
        // imagebump pushed first), until told to stop.
        let clone = try TemporaryDirectory.make("imagebump-outside").appendingPathComponent("clone")
        try await blocking { _ = try GitFixture.git(["clone", "-q", remote.path, clone.path]) }
        let stop = StopFlag()
        let period = Self.period
        let outside = Task { try await blocking { () throws -> Int in
            var pushed = 0
            let git = { (arguments: [String]) in try Command.run("/usr/bin/git", ["-C", clone.path] + arguments) }
            while !stop.value.load(ordering: .relaxed) {
                let started = ContinuousClock.now
                try "\(pushed)\n".write(to: clone.appendingPathComponent("outside-\(pushed).txt"), atomically: true, encoding: .utf8)
                _ = try git(["add", "-A"])
                _ = try git(["-c", "user.name=outside", "-c", "user.email=outside@example.com", "commit", "-qm", "outside \(pushed)"])
                var landed = false
                for _ in 0..<20 where !landed {
                    landed = try git(["push", "-q", "origin", "HEAD:main"]).status == 0
                    if !landed { _ = try git(["pull", "-q", "--rebase", "origin", "main"]) }
                }
                if landed { pushed += 1 }
                let elapsed = ContinuousClock.now - started
                if elapsed < period { Thread.sleep(forTimeInterval: Double((period - elapsed).components.attoseconds) / 1e18) }
            }
            return pushed
        } }

        // The stream: a new tag every 500 ms (or as soon as the previous one finished, when that
        // took longer), so that no event supersedes another and each must land on its own.
        var ids: [String] = []
        let end = ContinuousClock.now + Self.duration
        var minor = 0
        var tick = ContinuousClock.now
        while ContinuousClock.now < end {
            tick = tick.advanced(by: .milliseconds(500))
            minor += 1
            let event = ImageEvent(registry: "ghcr.io", repository: "acme/api", tag: "2.0.\(minor)", digest: nil, source: "generic", deliveryID: nil)
            let (id, _) = try await journal.record(event)
            dispatcher.submit(id, event)
            ids.append(id)
            await dispatcher.drain()
            if ContinuousClock.now < tick { try await Task.sleep(until: tick) }
        }
        stop.value.store(true, ordering: .relaxed)
        let outsidePushes = try await outside.value

        var statuses: [String: Int] = [:]
        var attempts = 0
        for id in ids {
            let event = try #require(try await journal.event(id))
            statuses[event.status.rawValue, default: 0] += 1
            if event.status == .failed { Issue.record("failed: \(event.lastError ?? "")") }
            attempts += event.attempts
        }
        #expect(statuses == ["done": ids.count], "\(statuses)")
        // Counted against each other, not against the clock (a loaded machine runs both slower):
        // a stream of events, and the remote moving under them more often than they were written.
        #expect(ids.count >= 10, "a stream of events (\(ids.count))")
        #expect(outsidePushes > ids.count, "the outside writer pushed \(outsidePushes) times for \(ids.count) events")
        // No outside commit lost, and the last tag is what dev runs.
        let files = try await blocking {
            try GitFixture.git(["--git-dir", remote.path, "ls-tree", "--name-only", "main"]).split(separator: "\n").filter {
                $0.hasPrefix("outside-")
            }.count
        }
        #expect(files == outsidePushes)
        #expect(try await APIRelease.tag(in: remote, "dev") == "2.0.\(minor)")
        print("busy remote: \(ids.count) events done in \(attempts) attempts; \(outsidePushes) outside pushes in \(Self.duration)")
    }
}

/// Tells a helper thread to stop.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
