import ArgumentParser
import Configuration
import Foundation
import ImageReference
import Policy

/// `imagebump policy test IMAGE TAG…`: which targets would take each tag, and why.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Explain tag policies.", subcommands: [Test.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "For each tag, say which targets of IMAGE would take it and why.",
            discussion: """
                Reads images[].policy and targetPolicies from --config. A taken tag still never lowers a \
                target: at bump time a tag ranking below the one a manifest has is skipped ("older than \
                current"). Among TAGs the highest each target would take is marked as its choice.
                """
        )

        @Argument(help: "The image, e.g. ghcr.io/acme/api.") var image: String
        @Argument(help: "Tags to explain.") var tags: [String]
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if global.config == nil { throw ValidationError("policy test needs --config FILE (images[].policy)") }
            if tags.isEmpty { throw ValidationError("give at least one TAG") }
        }

        func run() throws {
            let (configuration, _) = try global.load(label: "imagebump.policy")
            let name: ImageName
            do { name = try ImageName(parsing: image) } catch { throw ValidationError("\"\(image)\": \(error.reason)") }
            guard let settings = configuration.images.first(where: { $0.name == name }) else {
                emit("\(name): no image with this name is configured; events for it are ignored\n")
                throw ExitCode.failure
            }
            let targets = configuration.targets(for: name).map(\.name)
            let width = targets.map(\.count).max() ?? 0
            // The policy each target applies: a target's own keys over the image's.
            var out = "policies\n"
            for target in targets {
                let own = settings.targetPolicies[target] == nil ? "" : " (targetPolicies.\(target) over the image's)"
                out += "  \(target.padding(toLength: width, withPad: " ", startingAt: 0))  \(Self.describe(settings.policy(for: target)))\(own)\n"
            }
            for tag in tags {
                out += "\(tag)\n"
                for target in targets {
                    let policy = settings.policy(for: target)
                    let verdict: String
                    switch policy.verdict(tag) {
                    case .accepted:
                        let choice = policy.best(tags) == tag ? "; the highest of these tags it takes" : ""
                        verdict = "takes it (\(Self.describe(policy)))\(choice)"
                    case .rejected(let reason):
                        verdict = "skips it: \(reason)"
                    }
                    out += "  \(target.padding(toLength: width, withPad: " ", startingAt: 0))  \(verdict)\n"
                }
            }
            emit(out)
        }

        static func describe(_ policy: TagPolicy) -> String {
            var parts: [String] = []
            switch policy.filter {
            case .any: parts.append("any tag")
            case .semver(let range, let includePrerelease):
                parts.append("semver \(range)" + (includePrerelease ? " with pre-releases" : ""))
            case .pattern(let pattern, let ordering): parts.append("pattern \(pattern), \(pattern.group) \(ordering.rawValue)")
            }
            if !policy.ignore.isEmpty { parts.append("ignoring \(policy.ignore.joined(separator: ", "))") }
            return parts.joined(separator: ", ")
        }
    }
}
