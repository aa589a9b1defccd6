import Foundation

/// A helper server process for a test (a Git HTTP server, a proxy): started with its arguments,
/// asked for the port it bound and printed as `PORT <n>`, and terminated when released.
public final class BackgroundServer {
    public let port: Int
    private let pid: pid_t

    /// A port that was free a moment ago on 127.0.0.1: only for a server that can neither take a
    /// listening socket nor report the port it bound (Debian's `docker-registry`); the others
    /// bind port 0 (``InetdServer``, lighttpd's socket activation, `PORT <n>` from the child).
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
