import ArgumentParser
import Configuration
import Foundation
import HTTPClient
import Journal

/// `imagebump events list|show|retry`: the status API of a running `imagebump serve`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List, show and retry the events of a running imagebump serve.",
        subcommands: [List.self, Show.self, Retry.self]
    )

    /// Where the service's admin listener is: --server, else the config's `server.admin`.
    struct ServerOptions: ParsableArguments {
        @Option(name: .long, help: "The admin listener's base URL (default: http://<server.admin.listen>:<server.admin.port>).")
        var server: String?

        @OptionGroup var global: GlobalOptions

        func baseURL(_ configuration: Configuration) -> String {
            let admin = configuration.server.admin
            let host = admin.listen == "0.0.0.0" ? "127.0.0.1" : admin.listen
            var url = server ?? "http://\(host):\(admin.port)"
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }

        /// The admin token, when the config names one that resolves.
        func adminToken(_ configuration: Configuration) -> String? { try? configuration.server.admin.token?.resolve().revealed }

        /// Why the admin token is not at hand: none configured, or the variable or file it names.
        func missingToken(_ configuration: Configuration) -> String {
            guard let reference = configuration.server.admin.token else {
                return "this needs server.admin.token in the config (env:NAME or file:PATH), the token the service was started with"
            }
            do throws(SecretError) {
                _ = try reference.resolve()
                return "server.admin.token resolves"
            } catch {
                return "server.admin.token (\(reference)): \(error.reason)"
            }
        }

        /// POSTs with the admin token (operator actions: retry, approve).
        func post(_ path: String) async throws -> HTTPResponse {
            let (configuration, _) = try global.load(label: "imagebump.events")
            guard let token = adminToken(configuration) else {
                FileHandle.standardError.write(Data("\(missingToken(configuration))\n".utf8))
                throw ExitCode(2)
            }
            do {
                return try await CurlClient().send(
                    HTTPRequest(
                        method: "POST", url: baseURL(configuration) + path, headers: [("Authorization", "Bearer \(token)")], body: []))
            } catch {
                FileHandle.standardError.write(Data("cannot reach the service: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }

        func get(_ path: String) async throws -> [String: Any] {
            let (configuration, _) = try global.load(label: "imagebump.events")
            let response: HTTPResponse
            let headers = adminToken(configuration).map { [("Authorization", "Bearer \($0)")] } ?? []
            do { response = try await CurlClient().send(HTTPRequest(method: "GET", url: baseURL(configuration) + path, headers: headers)) } catch {
                FileHandle.standardError.write(Data("cannot reach the service: \(error)\n".utf8))
                throw ExitCode.failure
            }
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
            guard response.status == 200 else {
                FileHandle.standardError.write(
                    Data(
                        "\(object["error"] as? String ?? "HTTP \(response.status)"): \(object["detail"] as? String ?? response.bodyText)\n"
                            .utf8))
                throw ExitCode.failure
            }
            return object
        }
    }

    static func line(_ event: [String: Any]) -> String {
        func text(_ key: String) -> String { (event[key] as? String) ?? "-" }
        let reference = text("image") + ((event["tag"] as? String).map { ":\($0)" } ?? "")
        return
            "\(text("id"))  \(text("status").padding(toLength: 9, withPad: " ", startingAt: 0)) \(reference)  \(text("receivedAt"))  \(String(text("commit").prefix(12)))\n"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest events first.")
        @Option(name: .long, help: "Only events in this state: \(EventStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        var status: String?
        @Option(name: .long, help: "Only this image, e.g. ghcr.io/acme/api.") var image: String?
        @Option(name: .long, help: "At most this many.") var limit = 50
        @OptionGroup var options: ServerOptions

        func validate() throws {
            if let status, EventStatus(rawValue: status) == nil {
                throw ValidationError(
                    "--status \"\(status)\" is not a state; use one of \(EventStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        }

        func run() async throws {
            var query = ["limit=\(limit)"]
            if let status { query.append("status=\(status)") }
            if let image { query.append("image=\(image)") }
            let answer = try await options.get("/v1/events?" + query.joined(separator: "&"))
            emit(((answer["events"] as? [[String: Any]]) ?? []).map(EventsCommand.line).joined())
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One event with every step.")
        @Argument(help: "The event id.") var id: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let event = try await options.get("/v1/events/\(id)")
            emit(EventsCommand.line(event))
            if let error = event["lastError"] as? String { emit("last error: \(error)\n") }
            if let mergeRequest = event["mergeRequest"] as? String { emit("merge request: \(mergeRequest)\n") }
            for step in (event["steps"] as? [[String: String]]) ?? [] {
                emit("  \(step["at"] ?? "")  \(step["step"] ?? "")  \(step["detail"] ?? "")\n")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a failed or ignored event again (uses the config's generic receiver token).")
        @Argument(help: "The event id.") var id: String
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let response = try await options.post("/v1/events/\(id)/retry")
            guard response.status == 202 else {
                FileHandle.standardError.write(Data("retry refused (HTTP \(response.status)): \(response.bodyText)\n".utf8))
                throw ExitCode.failure
            }
            emit("retrying \(id)\n")
        }
    }
}
