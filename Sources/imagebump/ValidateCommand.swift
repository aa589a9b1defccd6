import ArgumentParser
import Configuration
import Foundation
import Intake
import Logging
import Pipeline
import Workers

/// `imagebump validate --config FILE`: report every problem `serve` would refuse the file for.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a configuration file and report every problem with file:line, key and fix.",
        discussion: """
            Checks what serve checks before it listens: the file, every secret (unless --no-secrets), \
            and what is built from them (signing key, known_hosts files, forges, receivers). \
            --explain prints the promotion chains as imagebump understands them.
            """
    )

    @Flag(name: .long, help: "Do not resolve env:/file: secrets (for CI machines that do not have them).")
    var noSecrets = false

    @Flag(name: .long, help: "Print each image's targets and each promotion chain as understood.")
    var explain = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if global.config == nil { throw ValidationError("validate needs --config FILE") }
    }

    func run() throws {
        let config = global.config ?? ""
        var setup: [String] = []
        do throws(ConfigError) {
            let loaded = try Configuration.load(path: config)
            if !noSecrets {
                let secretProblems = loaded.secretProblems()
                guard secretProblems.isEmpty else { throw ConfigError(problems: secretProblems) }
                // What serve builds from the file next: each failure names its thing.
                setup = Self.setupFailures(loaded)
            }
            guard setup.isEmpty else { throw ConfigError(problems: []) }
            for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            if let warning = DescriptorLimit.warning(maximumConnections: loaded.server.maximumConnections) {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
            if explain { emit(Self.explanation(loaded)) }
            emit("\(config): valid (\(loaded.repos.count) repos, \(loaded.targets.count) targets, \(loaded.images.count) images)\n")
        } catch {
            let lines = error.problems.map(\.description) + setup.map { "\(config): \($0)" }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            emit("\(config): \(lines.count) problem\(lines.count == 1 ? "" : "s")\n")
            throw ExitCode(2)
        }
    }

    /// Builds what `serve` builds before it listens, and says what fails.
    static func setupFailures(_ configuration: Configuration) -> [String] {
        let logger = Logger(label: "imagebump.validate", factory: { _ in SwiftLogNoOpLogHandler() })
        var failures: [String] = []
        do throws(SetupFailure) { _ = try WriteBackSettings(configuration) } catch { failures.append(error.description) }
        do throws(SetupFailure) { _ = try Route.routes(configuration, logger: logger) } catch { failures.append(error.description) }
        for receiver in configuration.receivers {
            do throws(SetupFailure) { _ = try ReceiverSettings(receiver, logger: logger) } catch { failures.append(error.description) }
        }
        return failures
    }

    /// Each image's targets, then each chain step by step: where image events write, and what
    /// must pass after each environment before the next one gets the tag.
    static func explanation(_ configuration: Configuration) -> String {
        var out = ""
        for image in configuration.images {
            let chain = configuration.promotions.first { $0.images.contains(image.name) }
            let direct = configuration.targets(for: image.name).map(\.name).filter { !(chain?.promotedTargets.contains($0) ?? false) }
            out += "\(image.name): image events write to \(direct.joined(separator: ", "))"
            if let chain { out += "; promoted by \(chain.name)" }
            out += "\n"
        }
        for chain in configuration.promotions {
            out += "promotion \(chain.name) (\(chain.images.map(\.description).joined(separator: ", "))):\n"
            for (index, step) in chain.steps.enumerated() {
                let mode = configuration.targets.first { $0.name == step.target }?.mode == .branch ? "branch: a merge request" : "commit"
                let source = index == 0 ? "image events write here" : "written once \(chain.steps[index - 1].target)'s gates passed"
                let gates = step.gates.filter { $0 != .none }.map(describe)
                let next = index + 1 < chain.steps.count ? "before \(chain.steps[index + 1].target) gets the tag" : "the last environment"
                let then = gates.isEmpty ? "nothing to wait for, \(next)" : "then \(gates.joined(separator: ", then ")), \(next)"
                out += "  \(index + 1). \(step.target) (\(mode)): \(source); \(then)\n"
            }
            if chain.revertOnSmokeFailure { out += "  a failed smoke check writes the environment's previous tag back\n" }
        }
        return out
    }

    static func describe(_ gate: PromotionSettings.Gate) -> String {
        switch gate {
        case .none: "nothing"
        case .manual: "a manual approval (imagebump promotions approve ID)"
        case .merged: "its merge request merged"
        case .smoke(let checks, let timeout, _): "\(checks.count) smoke check\(checks.count == 1 ? "" : "s") passing (within \(timeout) s)"
        }
    }
}
