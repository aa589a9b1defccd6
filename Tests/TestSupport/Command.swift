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

    /// Runs a program with its output discarded and waits for it (posix_spawn and waitpid, no
    /// pipes): for programs that start daemons, which would keep a captured pipe open forever.
    @discardableResult
    public static func spawnAndWait(_ executable: String, _ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Nothing else of the test process goes with it: a daemon that inherited the write end
        // of another test's pipe (PostgreSQL did) keeps that test reading forever.
        _ = closeFrom?(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw GitFixture.Failure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which the Glibc module does not
    /// declare: looked up once.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// ``run(_:_:in:environment:)`` on a thread of its own, for async tests: a program's run
    /// never holds one of the few cooperative threads the servers under test need.
    public static func running(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil)
        async throws -> Result
    {
        try await blocking { try run(executable, arguments, in: directory, environment: environment) }
    }

    /// ``succeed(_:_:in:environment:)`` on a thread of its own, for async tests.
    @discardableResult
    public static func succeeding(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil)
        async throws -> String
    {
        try await blocking { try succeed(executable, arguments, in: directory, environment: environment) }
    }
}
