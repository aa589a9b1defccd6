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

    @Flag(name: .long, help: "Do not resolve env:/file: secrets (for CI machines that do not have them).")
    var noSecrets = false

    func run() throws {
        do throws(ConfigError) {
            let loaded = try Configuration.load(path: config)
            let secretProblems = noSecrets ? [] : loaded.secretProblems()
            guard secretProblems.isEmpty else { throw ConfigError(problems: secretProblems) }
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
