import ArgumentParser
import Foundation

/// Runs an async command through its async `run()`: on an existential, `try await run()`
/// would pick the synchronous requirement, whose default only prints help.
func runAsynchronously<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}

// A peer that closes mid-write (a Git or forge server resetting the connection, a log reader
// that went away) must be an error on that write, never signal 13 killing the process.
signal(SIGPIPE, SIG_IGN)

// Exit codes: 0 success (changed, or already up to date), 1 failure, 2 usage or config error.
do {
    var command = try Imagebump.parseAsRoot()
    if var asynchronous = command as? any AsyncParsableCommand {
        try await runAsynchronously(&asynchronous)
    } else {
        try command.run()
    }
} catch {
    let code = Imagebump.exitCode(for: error)
    if code == .success {
        Imagebump.exit(withError: error)  // --help, --version
    }
    let message = Imagebump.fullMessage(for: error)
    if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    exit(code == .validationFailure ? 2 : code.rawValue)
}
