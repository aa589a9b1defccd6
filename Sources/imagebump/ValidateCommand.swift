import ArgumentParser
import Configuration
import Foundation

/// `imagebump validate --config FILE`: report every problem in a configuration file.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a configuration file and report every problem with file:line, key and fix."
    )

    @Option(name: .long, help: "The configuration file to check.")
    var config: String

    func run() throws {
        do {
            let loaded = try Configuration.load(path: config)
            for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            if let warning = DescriptorLimit.warning(maximumConnections: loaded.server.maximumConnections) {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
            emit("\(config): valid (\(loaded.repos.count) repos, \(loaded.targets.count) targets, \(loaded.images.count) images)\n")
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            emit("\(config): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")\n")
            throw ExitCode(2)
        }
    }
}
