import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Testing

/// `kill -9` in the middle of a burst: after a restart every accepted event is finished, none
/// is lost and none is applied twice.
@Suite struct CrashRecoveryTests {
    static let token = "crash-test-token-0123456789abcdef0123"

    /// Starts `imagebump serve` and returns the process and its port.
    static func serve(_ config: URL) async throws -> (Process, Int) {
        let process = Process()
        process.executableURL = CommandLineTests.binary
        process.arguments = ["serve", "--config", config.path, "--port", "0", "--log-level", "error"]
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEBUMP_TEST_CI_TOKEN"] = token
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = try await blocking {
            var bytes = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { bytes += byte }
            return String(decoding: bytes, as: UTF8.self)
        }
        return (process, try #require(Int(line.split(separator: ":").last ?? "")))
    }

    @Test func everyAcceptedEventIsFinishedExactlyOnceAfterAKill() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-crash")
        let config = state.appendingPathComponent("serve.yaml")
        try """
        stateDir: \(state.appendingPathComponent("state").path)
        server: {listen: 127.0.0.1}
        receivers: [{name: ci, type: generic, secret: env:IMAGEBUMP_TEST_CI_TOKEN}]
        repos: [{name: env, url: \(remote.path)}]
        targets: [{name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}]
        images: [{name: ghcr.io/acme/api, targets: [dev]}]
        """.write(to: config, atomically: true, encoding: .utf8)

        let (first, port) = try await Self.serve(config)
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

        let (second, secondPort) = try await Self.serve(config)
        defer { kill(second.processIdentifier, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(60)
        var statuses: [String: String] = [:]
        while ContinuousClock.now < deadline {
            let list = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(secondPort)/v1/events?limit=100"))
            let events = ((try JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any])?["events"] as? [[String: Any]]) ?? []
            statuses = Dictionary(
                events.compactMap { event in (event["id"] as? String).map { ($0, event["status"] as? String ?? "") } },
                uniquingKeysWith: { a, _ in a })
            if ids.allSatisfy({ ["done", "failed"].contains(statuses[$0] ?? "") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ids.allSatisfy { statuses[$0] == "done" }, "statuses: \(ids.map { statuses[$0] ?? "missing" })")
        // None applied twice: an event's trailer appears in at most one commit.
        let trailers = try GitFixture.git(["--git-dir", remote.path, "log", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"])
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(Set(trailers).count == trailers.count)
        #expect(Set(trailers).isSubset(of: Set(ids)))
    }
}

/// Event ids collected from concurrent requests.
final class Collected: Sendable {
    let ids = Mutex<[String]>([])
}
