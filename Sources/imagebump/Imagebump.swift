import AppLogging
import ArgumentParser
import Configuration
import Foundation
import Logging

/// The `imagebump` command line.
struct Imagebump: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        abstract: "Find every manifest that references a container image and move it to a new tag.",
        discussion: """
            Exit codes: 0 success (files changed, or already up to date), 1 failure, \
            2 usage or configuration error.
            """,
        version: Imagebump.version,
        subcommands: [
            ServeCommand.self, EventsCommand.self, PromotionsCommand.self, ScanCommand.self, BumpCommand.self, PolicyCommand.self, RegistryCommand.self, HealthcheckCommand.self, JournalCommand.self,
            ValidateCommand.self,
        ]
    )
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (YAML); see config/imagebump.yaml.")
    var config: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default: the config's log.level, else info).")
    var logLevel: String?

    @Option(name: .long, help: "logfmt or json (default: the config's log.format, else logfmt).")
    var logFormat: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level \"\(logLevel)\" is not a level; use one of \(LogSettings.levels.joined(separator: ", "))")
        }
        if let logFormat, StructuredLogHandler.Format(rawValue: logFormat) == nil {
            throw ValidationError("--log-format \"\(logFormat)\" is not a format; use logfmt or json")
        }
    }

    /// Loads the configuration (the defaults when --config is absent) and sets up logging.
    /// A configuration problem exits with code 2 after printing every problem.
    func load(label: String) throws -> (Configuration, Logger) {
        var configuration = Configuration()
        if let config {
            do {
                configuration = try Configuration.load(path: config)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(2)
            }
        }
        let level = Logger.Level(rawValue: logLevel ?? configuration.log.level) ?? .info
        let format = StructuredLogHandler.Format(rawValue: logFormat ?? configuration.log.format.rawValue) ?? .logfmt
        let redactor = Redactor(secrets: configuration.resolvableSecrets())
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, level: level, redactor: redactor) }
        return (configuration, Logger(label: label))
    }
}

/// Writes text to standard output.
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
