import Foundation

/// A helper server process for a test (a Git HTTP server, sshd): started with its arguments,
/// asked for the port it printed as `PORT <n>`, and terminated when released.
public final class BackgroundServer {
    public let port: Int
    private let process: Process

    public init(executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        process = Process()
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
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            kill(process.processIdentifier, SIGKILL)
            throw GitFixture.Failure(description: "\(executable) did not report its port (got \"\(text)\")")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's blocked signal mask is inherited, so SIGTERM may not land.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
