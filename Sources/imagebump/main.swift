import ArgumentParser
import Foundation

// Exit codes: 0 success (changed, or already up to date), 1 failure, 2 usage or config error.
do {
    var command = try Imagebump.parseAsRoot()
    try command.run()
} catch {
    let code = Imagebump.exitCode(for: error)
    if code == .success {
        Imagebump.exit(withError: error)  // --help, --version
    }
    let message = Imagebump.fullMessage(for: error)
    if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    exit(code == .validationFailure ? 2 : code.rawValue)
}
