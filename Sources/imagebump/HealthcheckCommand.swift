import ArgumentParser
import Configuration
import Foundation
import HTTPClient

/// `imagebump healthcheck`: exit 0 when the service answers its health check, 1 otherwise — for
/// Docker's `HEALTHCHECK` and Kubernetes exec probes, in an image without curl.
struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Ask a running service whether it is healthy; exit 0 when it is, 1 when not.",
        discussion: """
            GETs --url (default: /healthz on 127.0.0.1 at server.port of --config, else 8080) within \
            --timeout seconds. /readyz also checks the journal and the repositories.
            """
    )

    @Option(name: .long, help: "The URL to ask (a 2xx answer is healthy).") var url: String?
    @Option(name: .long, help: "Seconds to wait for the answer.") var timeout = 5
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...300).contains(timeout) else { throw ValidationError("--timeout must be from 1 to 300 seconds") }
        if let url, !url.hasPrefix("http://"), !url.hasPrefix("https://") {
            throw ValidationError("--url must be an http:// or https:// URL, e.g. http://127.0.0.1:8080/healthz")
        }
    }

    func run() async throws {
        var target = url
        if target == nil {
            let (configuration, _) = try global.load(label: "imagebump.healthcheck")
            target = "http://127.0.0.1:\(configuration.server.port)/healthz"
        }
        let address = target ?? "http://127.0.0.1:8080/healthz"
        let client = CurlClient(settings: HTTPClientSettings(connectTimeout: .seconds(timeout), totalTimeout: .seconds(timeout)))
        do {
            let response = try await client.send(HTTPRequest(method: "GET", url: address))
            guard (200..<300).contains(response.status) else {
                FileHandle.standardError.write(Data("unhealthy: \(address) answered \(response.status): \(response.bodyText.prefix(300))\n".utf8))
                throw ExitCode.failure
            }
            emit("healthy: \(address) answered \(response.status)\n")
        } catch let error as HTTPClientError {
            FileHandle.standardError.write(Data("unhealthy: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
