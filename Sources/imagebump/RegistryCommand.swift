import ArgumentParser
import Catchup
import Configuration
import Foundation
import ImageReference
import Policy
import Registry

/// `imagebump registry tags IMAGE`: what the registry has, and which tag each target's policy
/// takes from it — what to run when an image did not update.
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "Read a registry as serve's poller does.", subcommands: [Tags.self])

    struct Tags: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tags",
            abstract: "List IMAGE's tags in its registry and the one each target's policy takes, and why.",
            discussion: """
                Uses registries[] from --config for credentials, CA bundles and plain-HTTP registries. The tag a \
                target takes is what a poll round would write (when no event for it is known and the target holds \
                something lower). Exit status 1 when the registry cannot be read.
                """
        )

        @Argument(help: "The image, e.g. ghcr.io/acme/api.") var image: String
        @Option(name: .long, help: "Tags listed, highest first (0: all).") var show = 20
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if global.config == nil { throw ValidationError("registry tags needs --config FILE (registries[], images[].policy)") }
        }

        func run() async throws {
            let (configuration, _) = try global.load(label: "imagebump.registry")
            let name: ImageName
            do { name = try ImageName(parsing: image) } catch { throw ValidationError("\"\(image)\": \(error.reason)") }
            guard let settings = configuration.images.first(where: { $0.name == name }) else {
                emit("\(name): no image with this name is configured; add it to images[]\n")
                throw ExitCode.failure
            }
            let client = Registries(configuration).client(for: name)
            let tags: [String]
            do { tags = try await client.tags(name.path) } catch {
                FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
                throw ExitCode.failure
            }
            var out = "\(name): \(tags.count) tags at \(client.base)\n"
            let poll = settings.pollSeconds ?? configuration.pollIntervalSeconds
            out += "  polled \(poll > 0 ? "every \(poll) s" : "never (webhooks only; set images[].poll or workers.pollInterval)")"
            out += settings.verify ? "; webhooks verified against the registry\n" : "\n"
            let choices = TagChoice.choices(tags, image: settings, configuration: configuration)
            let width = choices.map(\.target.count).max() ?? 0
            for choice in choices {
                let target = choice.target.padding(toLength: width, withPad: " ", startingAt: 0)
                out += "  \(target)  \(choice.tag.map { "takes \($0): " } ?? "takes nothing: ")\(choice.reason)\n"
            }
            // Tags the policy can rank, highest first; then the others, in the registry's order.
            let policy = settings.policy
            let ranked = tags.filter { policy.compare($0, $0) != nil }.sorted { policy.compare($0, $1) == .orderedDescending }
                + tags.filter { policy.compare($0, $0) == nil }
            let listed = show > 0 ? Array(ranked.prefix(show)) : ranked
            if !listed.isEmpty { out += "tags, highest first by the image's policy\(listed.count < ranked.count ? " (\(listed.count) of \(ranked.count))" : ""):\n" }
            for tag in listed {
                switch settings.policy.verdict(tag) {
                case .accepted: out += "  \(tag)\n"
                case .rejected(let reason): out += "  \(tag)  (refused: \(reason))\n"
                }
            }
            emit(out)
        }
    }
}
