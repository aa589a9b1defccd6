import Foundation

/// Runs a program for a test and captures what it printed.
public enum Command {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil)
        throws -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so that a chatty program cannot fill one and stall.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs a program that must succeed; throws with what it printed on standard error.
    @discardableResult
    public static func succeed(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil)
        throws -> String
    {
        let result = try run(executable, arguments, in: directory, environment: environment)
        guard result.status == 0 else {
            throw GitFixture.Failure(
                description: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }
}
