import ArgumentParser
import Configuration
import Foundation
import HTTPClient

/// `imagebump promotions list|show|approve` (alias `promote`): promotion chains of a running
/// `imagebump serve`.
struct PromotionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promotions",
        abstract: "List, show, approve, retry and cancel the promotions of a running imagebump serve.",
        discussion: "`imagebump promote approve ID` is the same as `imagebump promotions approve ID`.",
        subcommands: [List.self, Show.self, Approve.self, Retry.self, Cancel.self],
        aliases: ["promote"]
    )

    static func line(_ promotion: [String: Any]) -> String {
        func text(_ key: String) -> String { (promotion[key] as? String) ?? "-" }
        return
            "\(text("id"))  \(text("state").padding(toLength: 20, withPad: " ", startingAt: 0)) \(text("image")):\(text("tag"))  in \(text("environment"))  (\(text("chain")))\n"
    }

    /// One image's chain: what each environment runs, and what is on its way there.
    ///
    ///     ghcr.io/acme/api (api-release)
    ///       dev  runs 1.4.12  since 2026-11-30T10:02:11Z (commit 3f2a9c1d0b7e)
    ///       acc  runs 1.4.10  since 2026-11-28T16:40:00Z (merge request #7)
    ///            ← 1.4.12  waiting-for-merge (gate merged, merge request #9), 2m 10s
    ///       prd  runs ? (imagebump has written no tag there yet)
    static func overview(_ image: [String: Any]) -> String {
        var text = "\(image["image"] as? String ?? "-") (\(image["chain"] as? String ?? "-"))\n"
        let flights = (image["inFlight"] as? [[String: Any]]) ?? []
        let environments = (image["environments"] as? [[String: Any]]) ?? []
        let width = environments.map { ($0["name"] as? String ?? "").count }.max() ?? 0
        for environment in environments {
            let name = environment["name"] as? String ?? "-"
            text += "  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  "
            if let tag = environment["runs"] as? String {
                text += "runs \(tag)  since \(environment["since"] as? String ?? "?") (\(environment["via"] as? String ?? ""))"
            } else {
                text += "runs ? (imagebump has written no tag there yet)"
            }
            text += "\n"
            for flight in flights where flight["environment"] as? String == name {
                var waits = "gate \(flight["gate"] as? String ?? "none")"
                if let number = (flight["mergeRequest"] as? [String: Any])?["number"] as? Int { waits += ", merge request #\(number)" }
                let age = flight["waitingSeconds"] as? Int ?? 0
                text += "  \(String(repeating: " ", count: width))  ← \(flight["tag"] as? String ?? "-")  \(flight["state"] as? String ?? "-") (\(waits)), \(age / 60)m \(age % 60)s  [\(flight["id"] as? String ?? "")]\n"
            }
        }
        return text
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest promotions first: which tag is where, what it waits for.")
        @Flag(name: .long, help: "Only promotions not done or failed.") var open = false
        @OptionGroup var options: EventsCommand.ServerOptions

        func run() async throws {
            let answer = try await options.get("/v1/promotions" + (open ? "?open=true" : ""))
            for image in (answer["images"] as? [[String: Any]]) ?? [] { emit(PromotionsCommand.overview(image)) }
            emit(((answer["promotions"] as? [[String: Any]]) ?? []).map(PromotionsCommand.line).joined())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One promotion with every step.")
        @Argument(help: "The promotion id.") var id: String
        @OptionGroup var options: EventsCommand.ServerOptions

        func run() async throws {
            let promotion = try await options.get("/v1/promotions/\(id)")
            emit(PromotionsCommand.line(promotion))
            emit("\(promotion["detail"] as? String ?? "")\n")
            if let request = promotion["mergeRequest"] as? [String: Any], let number = request["number"] as? Int {
                emit("merge request #\(number): \(request["url"] as? String ?? "")\n")
            }
            for step in (promotion["steps"] as? [[String: String]]) ?? [] {
                emit("  \(step["at"] ?? "")  \(step["environment"] ?? "")  \(step["state"] ?? "")  \(step["detail"] ?? "")\n")
            }
        }
    }

    /// `promotions retry ID` and `promotions cancel ID`.
    struct Operate: ParsableArguments {
        @Argument(help: "The promotion id.") var id: String
        @OptionGroup var options: EventsCommand.ServerOptions

        func run(_ action: String) async throws {
            let response = try await options.post("/v1/promotions/\(id)/\(action)")
            if response.status == 202 {  // a replica without the leader lease: journaled for the holder
                let object = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
                return emit("\(action) of \(id) handed to the replica holding the leader lease (request \(object["request"] as? String ?? "?"))\n")
            }
            guard response.status == 200 else {
                FileHandle.standardError.write(Data("\(action) refused (HTTP \(response.status)): \(response.bodyText)\n".utf8))
                throw ExitCode.failure
            }
            let promotion = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
            emit(PromotionsCommand.line(promotion))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a failed promotion's gate again (after a flaky smoke check, say); uses server.admin.token.")
        @OptionGroup var operate: Operate
        func run() async throws { try await operate.run("retry") }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop an open promotion where it is; uses server.admin.token.")
        @OptionGroup var operate: Operate
        func run() async throws { try await operate.run("cancel") }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a promotion waiting for approval move on (uses server.admin.token).")
        @OptionGroup var operate: Operate
        func run() async throws { try await operate.run("approve") }
    }
}
