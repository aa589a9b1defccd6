import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Testing

/// A Git server that accepts and never answers: the event fails with a timeout after
/// `git.timeoutSeconds`, and the other repository's lane keeps working meanwhile.
@Suite struct HungRemoteTests {
    /// Listens on a loopback port, accepts every connection and never sends a byte.
    final class SilentPeer: Sendable {
        let port: Int
        private let listener: Int32

        init() throws {
            let (descriptor, port) = try LoopbackSocket.listen()
            self.port = port
            listener = descriptor
            Thread.detachNewThread {
                var held: [Int32] = []
                while true {
                    let connection = accept(descriptor, nil, nil)
                    if connection < 0 { return }
                    held.append(connection)  // kept open, never answered
                }
            }
        }

        deinit { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    @Test func aSilentGitServerFailsItsEventAfterTheDeadlineAndOtherLanesGoOn() async throws {
        let peer = try SilentPeer()
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let config = try ServeProcess.config(
            "imagebump-hung",
            """
            workers: {batchWindowMs: 0, attempts: 1}
            git: {timeoutSeconds: 30}
            repos:
              - {name: hung, url: "http://127.0.0.1:\(peer.port)/env.git"}
              - {name: env, url: \(remote.path)}
            targets:
              - {name: stuck, repo: hung, paths: ["envs/dev/**"], mode: commit}
              - {name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}
            images:
              - {name: ghcr.io/acme/worker, targets: [stuck]}
              - {name: ghcr.io/acme/api, targets: [dev]}
            """)
        let (process, _, port, adminPort) = try await ServeProcess.start(config)
        defer { kill(process.processIdentifier, SIGKILL) }
        func post(_ image: String) async throws -> String { try await ServeProcess.postEvent(image, port: port).id }
        func event(_ id: String) async throws -> [String: Any] {
            let response = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(adminPort)/v1/events/\(id)"))
            return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        }
        let started = ContinuousClock.now
        let stuck = try await post("ghcr.io/acme/worker:9.9.9")
        let other = try await post("ghcr.io/acme/api:1.4.2")
        var otherStatus = ""
        while ContinuousClock.now - started < .seconds(30), otherStatus != "done" {
            otherStatus = try await event(other)["status"] as? String ?? ""
            if otherStatus != "done" { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(otherStatus == "done")
        // The other lane finished while the silent server still held the first event (its 30 s
        // deadline leaves a loaded machine's other lane ample time).
        #expect(try await event(stuck)["status"] as? String == "received")

        var stuckEvent: [String: Any] = [:]
        while ContinuousClock.now - started < .seconds(90) {
            stuckEvent = try await event(stuck)
            if stuckEvent["status"] as? String == "failed" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let elapsed = ContinuousClock.now - started
        #expect(stuckEvent["status"] as? String == "failed")
        #expect((stuckEvent["lastError"] as? String)?.contains("timed out") == true, "\(stuckEvent["lastError"] ?? "")")
        #expect(elapsed >= .seconds(30) && elapsed < .seconds(90))
    }

    /// A stop waits for the work in flight; a second SIGTERM ends the process at once.
    @Test func aSecondSignalStopsAtOnceWhileWorkIsStuck() async throws {
        let peer = try SilentPeer()
        let config = try ServeProcess.config(
            "imagebump-hung-stop",
            """
            workers: {batchWindowMs: 0, attempts: 1}
            git: {timeoutSeconds: 600}
            repos: [{name: hung, url: "http://127.0.0.1:\(peer.port)/env.git"}]
            targets: [{name: stuck, repo: hung, paths: ["envs/dev/**"], mode: commit}]
            images: [{name: ghcr.io/acme/worker, targets: [stuck]}]
            """)
        let (process, _, port, _) = try await ServeProcess.start(config)
        defer { kill(process.processIdentifier, SIGKILL) }
        #expect(try await ServeProcess.postEvent("ghcr.io/acme/worker:9.9.9", port: port).status == 202)
        // The lane is now held by the silent server; the first signal waits for it...
        kill(process.processIdentifier, SIGTERM)
        // Handled once the listener is closed (new connections are refused), still running.
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline,
            (try? await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/healthz"))) != nil
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect((try? await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/healthz"))) == nil)
        #expect(process.isRunning)
        // ...the second does not.
        let start = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        let status = try await blocking {
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(status == 130)
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}
