import Catchup
import Configuration
import Foundation
import Journal
import Synchronization
import TestSupport
import Testing

/// What polling costs a registry: 1,000 images on one registry that speaks the bearer-token
/// flow (a double: the real registry's cost does not depend on its storage). Counted, not timed.
@Suite struct PollCostTests {
    @Test func requestsPerRoundForAThousandImages() async throws {
        let double = try HTTPDouble { request in
            let parts = request.path.split(separator: "/").map(String.init)
            if request.path == "/token" {
                return .json(200, ["token": "t-\(request.query["scope"] ?? "")", "expires_in": 300])
            }
            // /v2/acme/NAME/tags/list or /v2/acme/NAME/manifests/TAG
            guard parts.count == 5, parts[0] == "v2" else { return DoubleResponse(status: 404) }
            let repository = "\(parts[1])/\(parts[2])"
            guard request.headers["authorization"] == "Bearer t-repository:\(repository):pull" else {
                return DoubleResponse(
                    status: 401,
                    headers: [
                        ("WWW-Authenticate", "Bearer realm=\"http://127.0.0.1:\(request.headers["host"]?.split(separator: ":").last ?? "")/token\",service=\"double\",scope=\"repository:\(repository):pull\"")
                    ])
            }
            if parts[3] == "tags" { return .json(200, ["name": repository, "tags": ["1.0.0", "1.1.0", "latest"]]) }
            return DoubleResponse(
                status: 200,
                headers: [("Docker-Content-Digest", "sha256:" + String(repeating: "ab", count: 32)), ("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
        }
        let host = "127.0.0.1:\(double.port)"
        let images = (0..<1000).map { "  - {name: \(host)/acme/app-\($0), policy: {semver: \">=1.0.0\"}}" }.joined(separator: "\n")
        let configuration = try Configuration.parse(
            """
            repos: [{name: env, url: /nonexistent}]
            targets: [{name: dev, repo: env, paths: ["**"]}]
            registries: [{host: "\(host)", insecure: true}]
            workers: {pollInterval: 5m}
            images:
            \(images)
            """, file: "cost.yaml")
        let journal = try Journal(testing: try TemporaryDirectory.make("imagebump-poll-cost").appendingPathComponent("j.sqlite").path)
        let created = Mutex(0)
        let poller = RegistryPoller(
            configuration: configuration, registries: Registries(configuration), journal: journal, ignoreReason: { _ in nil },
            submit: { _, _ in created.withLock { $0 += 1 } })

        let first = await poller.round()
        let firstRequests = double.requests.count
        #expect(first.images == 1000 && first.failed.isEmpty && first.created.count == 1000)
        // Per image: the tags list refused (401), its token, the list, one HEAD for the event's digest.
        #expect(firstRequests == 4000)
        #expect(double.requests.filter { $0.path == "/token" }.count == 1000)

        let second = await poller.round()
        // Tokens are reused and every tag is known: one tags list per image, nothing else.
        #expect(second.created.isEmpty)
        #expect(double.requests.count - firstRequests == 1000)
        #expect(created.withLock { $0 } == 1000)
    }
}
