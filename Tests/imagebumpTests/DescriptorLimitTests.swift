import Foundation
import HTTPClient
import TestSupport
import Testing

/// Out of file descriptors: `imagebump serve` under `ulimit -n 64` with 80 connections waiting
/// backs off accepting instead of spinning (it burned both cores), says so, and serves again
/// once descriptors are free; it warns at start that maxConnections exceeds the limit.
@Suite struct DescriptorLimitTests {
    @Test func acceptBacksOffWhileOutOfDescriptors() async throws {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-emfile")
        let config = try ServeProcess.config(remote: remote, state: state)
        let log = state.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", #"ulimit -n 64 && exec "$0" "$@""#, CommandLineTests.binary.path, "serve", "--config", config.path, "--port", "0", "--admin-port", "0",
            "--log-level", "warning",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEBUMP_TEST_CI_TOKEN"] = ServeProcess.token
        environment["IMAGEBUMP_TEST_ADMIN_TOKEN"] = ServeProcess.adminToken
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL) }
        let line = try await blocking {
            var bytes = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { bytes += byte }
            return String(decoding: bytes, as: UTF8.self)
        }
        let port = try #require(Int(line.split(separator: ":").last ?? ""), "\(line)")
        let pid = process.processIdentifier

        let clients = try await blocking { try (0..<80).map { _ in try HTTPServerClient(port: port) } }
        let before = try Self.cpuSeconds(pid)
        try await Task.sleep(for: .seconds(3))  // measuring a rate over a span, not ordering events
        let spent = try Self.cpuSeconds(pid) - before
        #expect(spent < 1.0, "\(spent) s of CPU in 3 s while out of descriptors")

        clients.forEach { $0.close() }
        let deadline = ContinuousClock.now + .seconds(10)
        var status = 0
        while ContinuousClock.now < deadline, status != 200 {
            status = (try? await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/healthz")).status) ?? 0
            if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 200)
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("out of file descriptors"))
        #expect(text.contains("server.maxConnections is 512, but this process may open only 64 files"))
    }

    /// utime + stime of a process, from /proc.
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A connection that only connects.
final class HTTPServerClient: Sendable {
    let socket: Int32

    init(port: Int) throws { socket = try LoopbackSocket.connect(port: port) }

    func close() { Glibc.close(socket) }
}
