import Catchup
import Configuration
import Events
import Foundation
import HTTPClient
import ImageReference
import Journal
import Synchronization
import TestSupport
import Testing
import Workers

/// Poll rounds against a real registry (and, for the cost at 1,000 images, a double speaking
/// the same token flow), with a real journal: which events a round creates, and which it
/// does not create again.
@Suite struct RegistryPollerTests {
    /// The events a round handed to the workers.
    final class Submitted: Sendable {
        private let events = Mutex<[(String, ImageEvent)]>([])
        var all: [(String, ImageEvent)] { events.withLock { $0 } }
        func add(_ id: String, _ event: ImageEvent) { events.withLock { $0.append((id, event)) } }
    }

    static func configuration(_ yaml: String) throws -> Configuration {
        try Configuration.parse(
            """
            repos: [{name: env, url: /nonexistent}]
            targets:
              - {name: dev, repo: env, paths: ["dev/**"]}
              - {name: prd, repo: env, paths: ["prd/**"]}
            \(yaml)
            """, file: "poll.yaml")
    }

    static func poller(_ configuration: Configuration, _ journal: Journal, _ submitted: Submitted, transport: (any HTTPTransport)? = nil)
        -> RegistryPoller
    {
        RegistryPoller(
            configuration: configuration, registries: Registries(configuration, transport: transport), journal: journal,
            ignoreReason: { _ in nil }, submit: { submitted.add($0, $1) })
    }

    @Test func aRoundCreatesOneEventPerNewTagAndNeverTheSameAgain() async throws {
        let registry = try await blocking { try RealRegistry() }
        try await blocking {
            try registry.pushNew("acme/api", tags: ["1.0.0", "1.1.0"])
            try registry.pushNew("acme/api", tags: ["1.2.0", "latest"])
            try registry.pushNew("acme/api", tags: ["2.0.0-rc.1"])
            try registry.pushNew("acme/worker", tags: ["0.9.0"])
        }
        let digest = try await blocking { try registry.pushNew("acme/web", tags: ["3.1.4"]) }
        let configuration = try Self.configuration(
            """
            registries: [{host: "\(registry.host)", insecure: true}]
            workers: {pollInterval: 5m}
            images:
              - {name: \(registry.host)/acme/api, policy: {semver: ">=1.0.0"}}
              - {name: \(registry.host)/acme/worker}
              - {name: \(registry.host)/acme/web, poll: 1m}
              - {name: \(registry.host)/acme/quiet, poll: 0}
            """)
        #expect(configuration.polledImages.map(\.seconds) == [300, 300, 60])
        let journal = try Journal(testing: try TemporaryDirectory.make("imagebump-poll").appendingPathComponent("j.sqlite").path)
        let submitted = Submitted()
        let poller = Self.poller(configuration, journal, submitted)
        let first = await poller.round()
        #expect(first.failed.isEmpty)
        // The policy's highest: a pre-release and `latest` are not taken; each image once.
        #expect(
            Set(first.created) == ["\(registry.host)/acme/api:1.2.0", "\(registry.host)/acme/worker:0.9.0", "\(registry.host)/acme/web:3.1.4"])
        let web = try #require(submitted.all.first { $0.1.repository == "acme/web" })
        #expect(web.1.source == "poll")
        #expect(web.1.digest?.description == digest)
        #expect(try await journal.event(web.0)?.source == "poll")
        // The webhook that comes after all (same tag and digest) joins the polled event.
        let late = ImageEvent(
            registry: registry.host, repository: "acme/web", tag: "3.1.4", digest: web.1.digest, source: "distribution", deliveryID: "late-1")
        let recorded = try await journal.record(late)
        #expect(recorded.duplicate && recorded.id == web.0)
        // Known now: the next round creates nothing, whatever the events' outcome so far.
        #expect(await poller.round().created.isEmpty)
        // A new tag is one new event.
        try await blocking { try registry.pushNew("acme/api", tags: ["1.3.0"]) }
        #expect(await poller.round().created == ["\(registry.host)/acme/api:1.3.0"])
    }

    @Test func aTargetWrittenWithTheTagOrANewerOneNeedsNoEvent() async throws {
        let registry = try await blocking { try RealRegistry() }
        try await blocking { try registry.pushNew("acme/api", tags: ["1.0.0", "1.1.0"]) }
        let configuration = try Self.configuration(
            """
            registries: [{host: "\(registry.host)", insecure: true}]
            images: [{name: \(registry.host)/acme/api, poll: 1m}]
            """)
        let journal = try Journal(testing: try TemporaryDirectory.make("imagebump-poll").appendingPathComponent("j.sqlite").path)
        let image = "\(registry.host)/acme/api"
        // dev holds 1.2.0 (written by a webhook the registry's list does not show yet); prd 1.1.0.
        try await journal.recordWrite(target: "dev", image: image, eventID: "e1", orderMilliseconds: 1, tag: "1.2.0")
        try await journal.recordWrite(target: "prd", image: image, eventID: "e2", orderMilliseconds: 1, tag: "1.1.0")
        let submitted = Submitted()
        #expect(await Self.poller(configuration, journal, submitted).round().created.isEmpty)
        // prd falls behind: an event.
        try await journal.recordWrite(target: "prd", image: image, eventID: "e3", orderMilliseconds: 2, tag: "1.0.0")
        #expect(await Self.poller(configuration, journal, submitted).round().created == ["\(image):1.1.0"])
    }

    @Test func aFailingImageIsReportedAndTheOthersGoOn() async throws {
        let open = try await blocking { try RealRegistry() }
        let locked = try await blocking { try RealRegistry(authentication: .basic(user: "ci", password: "right-password")) }
        try await blocking {
            try open.pushNew("acme/api", tags: ["1.0.0"])
            try locked.pushNew("acme/secret", tags: ["1.0.0"])
        }
        let secret = try TemporaryDirectory.make("imagebump-poll-secret").appendingPathComponent("password")
        try "wrong-password".write(to: secret, atomically: true, encoding: .utf8)
        let configuration = try Self.configuration(
            """
            registries:
              - {host: "\(open.host)", insecure: true}
              - {host: "\(locked.host)", insecure: true, username: ci, password: "file:\(secret.path)"}
            workers: {pollInterval: 1m}
            images: [{name: \(locked.host)/acme/secret}, {name: \(open.host)/acme/api}]
            """)
        let journal = try Journal(testing: try TemporaryDirectory.make("imagebump-poll").appendingPathComponent("j.sqlite").path)
        let submitted = Submitted()
        let poller = Self.poller(configuration, journal, submitted)
        let round = await poller.round()
        #expect(round.created == ["\(open.host)/acme/api:1.0.0"])
        #expect(round.failed.count == 1)
        #expect(round.failed.first?.contains("\(locked.host)/acme/secret") == true)
        #expect(round.failed.first?.contains("registries[\(locked.host)]") == true)
        #expect(round.failed.first?.contains("wrong-password") == false)
        // The password file is re-read (a sidecar rotated it): the same poller's next round reads the registry.
        try "right-password".write(to: secret, atomically: true, encoding: .utf8)
        #expect(await poller.round().created == ["\(locked.host)/acme/secret:1.0.0"])
    }
}
