import Foundation
import HTTPClient
import TestSupport
import Testing

/// SIGPIPE is ignored: `imagebump serve` whose log reader went away (its standard error is a
/// pipe nobody reads) keeps serving; writing a log line is an error on that write, not signal
/// 13 killing the process.
@Suite struct BrokenPipeTests {
    @Test func aClosedLogPipeDoesNotKillTheService() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-sigpipe")
        let config = try ServeProcess.config(remote: remote, state: state)
        let process = Process()
        process.executableURL = CommandLineTests.binary
        process.arguments = ["serve", "--config", config.path, "--port", "0", "--admin-port", "0", "--log-level", "info"]
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEBUMP_TEST_CI_TOKEN"] = ServeProcess.token
        environment["IMAGEBUMP_TEST_ADMIN_TOKEN"] = ServeProcess.adminToken
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL) }
        // Nobody will read the log: the next line the service writes meets a closed pipe.
        try err.fileHandleForReading.close()
        try err.fileHandleForWriting.close()
        let line = try await blocking {
            var bytes = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { bytes += byte }
            return String(decoding: bytes, as: UTF8.self)
        }
        let port = try #require(Int(line.split(separator: ":").last ?? ""), "\(line)")
        let base = "http://127.0.0.1:\(port)"
        // Each accepted event is logged at info: the writes fail with EPIPE.
        for tag in ["1.4.2", "1.4.3"] {
            let accepted = try await CurlClient().send(
                HTTPRequest(
                    method: "POST", url: "\(base)/v1/events", headers: [("Authorization", "Bearer \(ServeProcess.token)")],
                    body: Array(#"{"image": "ghcr.io/acme/api:\#(tag)"}"#.utf8)))
            #expect(accepted.status == 202)
        }
        let health = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(base)/healthz"))
        #expect(health.status == 200)
        #expect(process.isRunning)
    }
}
