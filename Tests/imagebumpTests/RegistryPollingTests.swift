import Foundation
import HTTPClient
import TestSupport
import Testing

extension HeavyPeers {
    /// The catch-up, end to end: a running `imagebump serve` reads a real registry (token auth with
    /// a realm the test serves) whose notifications go nowhere — as when webhooks are lost — and
    /// writes what was pushed; `verify: true` keeps a webhook for a tag the registry does not have
    /// from being written.
    @Suite(.serialized) struct RegistryPollingTests {
        @Test func whatWasPushedWhileStoppedOrWithoutAWebhookIsWrittenByPolling() async throws {
            let service = try RegistryTokenService(user: "robot", password: "polling-robot-password")
            let registry = try await blocking { try RealRegistry(authentication: .token(service)) }
            let host = registry.host
            let files = try TemporaryDirectory.make("imagebump-poll-env")
            try FileManager.default.createDirectory(at: files.appendingPathComponent("envs/dev"), withIntermediateDirectories: true)
            try """
            api: {image: "\(host)/acme/api:0.1.0"}
            worker: {image: "\(host)/acme/worker:0.1.0"}
            web: {image: "\(host)/acme/web:0.1.0"}
            """.write(to: files.appendingPathComponent("envs/dev/apps.yaml"), atomically: true, encoding: .utf8)
            let remote = try await blocking { try GitFixture.bareRepository(from: files) }
            // Pushed while imagebump is not running (and no webhook is configured at all).
            let apiDigest = try await blocking { () throws -> String in
                try registry.pushNew("acme/worker", tags: ["1.0.0"])
                try registry.pushNew("acme/web", tags: ["2.0.0", "2.1.0-rc.1"])
                return try registry.pushNew("acme/api", tags: ["1.0.0"])
            }
            let config = try ServeProcess.config(
                "imagebump-poll-serve",
                """
                registries: [{host: "\(host)", insecure: true, username: robot, password: env:IMAGEBUMP_TEST_REGISTRY_PASSWORD}]
                workers: {batchWindowMs: 0, pollInterval: 2s}
                repos: [{name: env, url: \(remote.path)}]
                targets: [{name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}]
                images:
                  - {name: \(host)/acme/api, verify: true, policy: {semver: ">=0.1.0"}}
                  - {name: \(host)/acme/worker, policy: {semver: ">=0.1.0"}}
                  - {name: \(host)/acme/web, policy: {semver: ">=0.1.0"}}
                """)
            let log = try TemporaryDirectory.make("imagebump-poll-log").appendingPathComponent("serve.log")
            let (process, _, port, adminPort) = try await ServeProcess.start(
                config, environment: ["IMAGEBUMP_TEST_REGISTRY_PASSWORD": "polling-robot-password"], logLevel: "info", log: log)
            defer { kill(process.processIdentifier, SIGKILL) }
            let admin = "http://127.0.0.1:\(adminPort)"

            func events() async throws -> [[String: Any]] {
                let list = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/events?limit=100"))
                return ((try JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any])?["events"] as? [[String: Any]]) ?? []
            }
            /// The events for `image:tag` once one has finished (at most 30 s).
            func finished(_ image: String, _ tag: String) async throws -> [String: Any] {
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline {
                    if let event = try await events().first(where: {
                        $0["image"] as? String == "\(host)/\(image)" && $0["tag"] as? String == tag
                            && ["done", "failed", "skipped", "superseded", "ignored"].contains($0["status"] as? String ?? "")
                    }) {
                        return event
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw GitFixture.Failure(description: "no finished event for \(image):\(tag): \(try await events())")
            }
            func file() async throws -> String {
                try await blocking { try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/dev/apps.yaml"]) }
            }
            func post(_ reference: String) async throws -> String { try await ServeProcess.postEvent(reference, port: port).id }

            // The first round, at start: all three, each from its registry's newest tag the policy takes.
            for (image, tag) in [("acme/api", "1.0.0"), ("acme/worker", "1.0.0"), ("acme/web", "2.0.0")] {
                let event = try await finished(image, tag)
                #expect(event["status"] as? String == "done", "\(image):\(tag): \(event)")
                #expect(event["source"] as? String == "poll")
            }
            #expect(try await finished("acme/api", "1.0.0")["digest"] as? String == apiDigest)
            #expect(try await file() == """
                api: {image: "\(host)/acme/api:1.0.0"}
                worker: {image: "\(host)/acme/worker:1.0.0"}
                web: {image: "\(host)/acme/web:2.0.0"}
                """)

            // Pushed while running, with no webhook: a later round writes it.
            _ = try await blocking { try registry.pushNew("acme/worker", tags: ["1.1.0"]) }
            #expect(try await finished("acme/worker", "1.1.0")["status"] as? String == "done")
            #expect(try await file().contains("\(host)/acme/worker:1.1.0"))

            // verify: true — a webhook for a tag the registry does not have is not written, nor one
            // whose digest is not the registry's.
            let missing = try await post("\(host)/acme/api:9.9.9")
            let forged = try await post("\(host)/acme/api:1.0.0@sha256:\(String(repeating: "0", count: 64))")
            for (id, says) in [(missing, "the registry has no tag 9.9.9"), (forged, "the event says sha256:0000")] {
                let detail = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/events/\(id)"))
                let deadline = ContinuousClock.now + .seconds(30)
                var event = try JSONSerialization.jsonObject(with: Data(detail.body)) as? [String: Any] ?? [:]
                while event["status"] as? String == "received", ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    let again = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/events/\(id)"))
                    event = try JSONSerialization.jsonObject(with: Data(again.body)) as? [String: Any] ?? [:]
                }
                #expect(event["status"] as? String == "skipped")
                let steps = (event["steps"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
                #expect(steps.contains { $0.contains(says) }, "\(steps)")
            }
            #expect(try await file().contains("\(host)/acme/api:1.0.0\""))
            // Metrics: registry requests by host and status, rounds, tags found, events made.
            let metrics = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/metrics")).bodyText
            #expect(metrics.contains("imagebump_registry_requests_total{host=\"\(host)\",status=\"200\"}"), "\(metrics)")
            #expect(metrics.contains("imagebump_poll_events_total 4"))
            #expect(metrics.contains("imagebump_poll_rounds_total "))
            #expect(metrics.contains("imagebump_poll_tags_found_total "))
            // One info line per event polling made; the registry password is in no line.
            let lines = try String(contentsOf: log, encoding: .utf8)
            #expect(lines.components(separatedBy: "event created by polling").count - 1 == 4)
            #expect(!lines.contains("polling-robot-password"))
        }
    }

    /// `imagebump registry tags`: what a user runs when an image did not update.
    @Suite struct RegistryTagsCommandTests {
        @Test func itListsTheTagsAndWhatEachTargetTakesAndWhy() async throws {
            let registry = try await blocking { try RealRegistry(authentication: .basic(user: "ci", password: "tags-command-password")) }
            _ = try await blocking {
                try registry.pushNew("acme/api", tags: ["1.4.9", "1.5.0", "2.0.0", "latest", "2.1.0-rc.1"])
            }
            let directory = try TemporaryDirectory.make("imagebump-registry-tags")
            let password = directory.appendingPathComponent("password")
            try "tags-command-password".write(to: password, atomically: true, encoding: .utf8)
            let config = directory.appendingPathComponent("c.yaml")
            try """
            registries: [{host: "\(registry.host)", insecure: true, username: ci, password: "file:\(password.path)"}]
            repos: [{name: env, url: /srv/env.git}]
            targets: [{name: dev, repo: env}, {name: prd, repo: env}]
            images:
              - name: \(registry.host)/acme/api
                poll: 5m
                policy: {semver: ">=1.0.0"}
                targetPolicies: {prd: {semver: "~1.4"}}
            """.write(to: config, atomically: true, encoding: .utf8)
            let result = try await blocking {
                try Command.run(CommandLineTests.binary.path, ["registry", "tags", "\(registry.host)/acme/api", "--config", config.path])
            }
            #expect(result.status == 0, "\(result)")
            #expect(
                result.stdout == """
                    \(registry.host)/acme/api: 5 tags at http://\(registry.host)
                      polled every 300 s
                      dev  takes 2.0.0: the highest of 3 tags its policy accepts (2 refused)
                      prd  takes 1.4.9: the highest of 1 tag its policy accepts (4 refused)
                    tags, highest first by the image's policy:
                      2.1.0-rc.1  (refused: a pre-release, outside >=1.0.0)
                      2.0.0
                      1.5.0
                      1.4.9
                      latest  (refused: not a semantic version)

                    """)
            // Wrong credentials: the reason, exit 1.
            try "wrong".write(to: password, atomically: true, encoding: .utf8)
            let refused = try await blocking {
                try Command.run(CommandLineTests.binary.path, ["registry", "tags", "\(registry.host)/acme/api", "--config", config.path])
            }
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("the credentials of registries[\(registry.host)] were refused"), "\(refused.stderr)")
        }
    }
}
