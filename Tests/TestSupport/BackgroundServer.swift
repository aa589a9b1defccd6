import Foundation

/// A helper server process for a test (a Git HTTP server, sshd): started with its arguments,
/// asked for the port it printed as `PORT <n>`, and terminated when released.
public final class BackgroundServer {
    public let port: Int
    private let pid: pid_t

    /// Starts a daemon that listens on a port chosen beforehand, and waits until it accepts.
    /// It is started detached through `sh` (sshd closes the descriptors Foundation's `Process`
    /// watches its children with, which would stall every other `Process` in the test run).
    public init(executable: String, arguments: [String], listeningOn port: Int, within seconds: Double = 10) throws {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "\"$0\" \"$@\" </dev/null >/dev/null 2>&1 & echo $!", executable] + arguments
        let out = Pipe()
        shell.standardOutput = out
        try shell.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw GitFixture.Failure(description: "\(executable) did not start")
        }
        self.pid = pid
        self.port = port
        let deadline = Date().addingTimeInterval(seconds)
        while !Self.accepts(port) {
            guard Date() < deadline else {
                kill(pid, SIGKILL)
                throw GitFixture.Failure(description: "\(executable) did not listen on 127.0.0.1:\(port)")
            }
            usleep(20_000)
        }
    }

    /// A port that was free a moment ago on 127.0.0.1.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in(
            sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
            sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw GitFixture.Failure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in(
            sin_family: sa_family_t(AF_INET), sin_port: UInt16(port).bigEndian, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
            sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Starts a server that prints `PORT <n>` as its first line once it listens.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read the first line: "PORT <n>".
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        let text = String(decoding: line, as: UTF8.self)
        pid = process.processIdentifier
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            kill(pid, SIGKILL)
            throw GitFixture.Failure(description: "\(executable) did not report its port (got \"\(text)\")")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's blocked signal mask is inherited, so SIGTERM may not land.
        kill(pid, SIGKILL)
    }
}
