import Foundation
import HTTPClient
import TestSupport
import Testing

/// Event semantics under real registry traffic: Debian's CNCF distribution registry, pushed to
/// by skopeo, notifies a running `imagebump serve` — through a header an ingress adds to every
/// request (`X-Request-Id`, the same on every delivery here). Every release lands exactly once;
/// untagged manifest pushes (multi-arch children, pushes by digest) never move a tag.
@Suite(.serialized) struct RegistryDeliveryTests {
    static let token = ServeProcess.token

    /// A running service on the registry fixture's repository, with its own registry.
    struct Setup {
        let remote: URL
        let service: Process
        let port: Int
        let adminPort: Int
        let registry: RealRegistry

        init(batchWindowMs: Int) async throws {
            remote = try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("registry/env-repo"))
            let state = try TemporaryDirectory.make("imagebump-registry-serve")
            let config = state.appendingPathComponent("serve.yaml")
            try """
            stateDir: \(state.appendingPathComponent("state").path)
            server: {listen: 127.0.0.1}
            workers: {batchWindowMs: \(batchWindowMs)}
            receivers:
              - {name: registry, type: distribution, secret: env:IMAGEBUMP_TEST_CI_TOKEN, registryHost: registry.test}
            repos: [{name: env, url: \(remote.path)}]
            targets:
              - {name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}
              - {name: prd, repo: env, paths: ["envs/prd/**"], mode: commit}
            images:
              - {name: registry.test/acme/api, targets: [dev, prd]}
              - {name: registry.test/acme/worker, targets: [dev]}
            """.write(to: config, atomically: true, encoding: .utf8)
            (service, _, port, adminPort) = try await ServeProcess.start(config)
            let notify = "http://127.0.0.1:\(port)/hooks/registry"
            registry = try await blocking {
                try RealRegistry(
                    notify: (notify, ["Authorization": "Bearer \(RegistryDeliveryTests.token)", "X-Request-Id": "ingress-request-0001"]))
            }
        }

        func stop() { kill(service.processIdentifier, SIGKILL) }

        func git(_ arguments: String...) async throws -> String {
            let remote = self.remote
            return try await blocking { try GitFixture.git(["--git-dir", remote.path] + arguments) }
        }

        func commits() async throws -> Int { Int(try await git("rev-list", "--count", "main")) ?? -1 }

        func makeImage() async throws -> (name: String, digest: String) {
            let registry = self.registry
            return try await blocking { try registry.makeImage() }
        }

        func makeMultiArchImage() async throws -> (name: String, index: String, children: [String]) {
            let registry = self.registry
            return try await blocking { try registry.makeMultiArchImage() }
        }

        func push(_ image: String, to repository: String, tag: String?, digest: String? = nil) async throws {
            let registry = self.registry
            try await blocking { try registry.push(image, to: repository, tag: tag, digest: digest) }
        }

        /// The journal's events, newest first.
        func events() async throws -> [[String: Any]] {
            let list = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(adminPort)/v1/events?limit=500"))
            return ((try JSONSerialization.jsonObject(with: Data(list.body)) as? [String: Any])?["events"] as? [[String: Any]]) ?? []
        }

        /// Waits (at most 30 s) for an event matching `where` to reach a final status.
        func finished(_ description: String, where matches: @escaping ([String: Any]) -> Bool) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let event = try await events().first(where: matches),
                    ["done", "failed", "ignored", "skipped", "superseded"].contains(event["status"] as? String ?? "")
                {
                    return event
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw GitFixture.Failure(description: "no finished event for \(description): \(try await events())")
        }

        func finished(tag: String) async throws -> [String: Any] {
            try await finished("tag \(tag)") { $0["tag"] as? String == tag }
        }

        func finished(digest: String) async throws -> [String: Any] {
            try await finished("digest \(digest)") { $0["digest"] as? String == digest && $0["tag"] is NSNull }
        }

        /// How many deliveries the service answered as repeats.
        func duplicates() async throws -> Int {
            let metrics = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(adminPort)/metrics"))
            let line = String(decoding: metrics.body, as: UTF8.self).split(separator: "\n").first {
                $0.hasPrefix("imagebump_deliveries_total{") && $0.contains("outcome=\"duplicate\"") && $0.contains("receiver=\"registry\"")
            }
            return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
    }

    @Test func eachPushLandsExactlyOnceAndUntaggedManifestsMoveNothing() async throws {
        let setup = try await Setup(batchWindowMs: 0)
        defer { setup.stop() }
        let start = try await setup.commits()

        // A tag push: dev takes the tag, prd's pin takes the tag and its digest.
        let first = try await setup.makeImage()
        try await setup.push(first.name, to: "acme/api", tag: "1.0.0")
        #expect(try await setup.finished(tag: "1.0.0")["status"] as? String == "done")
        #expect(try await setup.git("show", "main:envs/dev/api.yaml").contains("image: registry.test/acme/api:1.0.0 # the tag moves"))
        #expect(try await setup.git("show", "main:envs/prd/api.yaml").contains("image: registry.test/acme/api:1.0.0@\(first.digest)"))
        #expect(try await setup.commits() == start + 2)  // one commit per target: dev and prd

        // The same image under a second tag (same digest): a new release, written once.
        try await setup.push(first.name, to: "acme/api", tag: "1.0.1")
        #expect(try await setup.finished(tag: "1.0.1")["status"] as? String == "done")
        #expect(try await setup.git("show", "main:envs/prd/api.yaml").contains("registry.test/acme/api:1.0.1@\(first.digest)"))
        #expect(try await setup.commits() == start + 4)

        // An identical re-push: the registry notifies again (a new event id); it joins the event
        // already done and writes nothing.
        let repeatsBefore = try await setup.duplicates()
        try await setup.push(first.name, to: "acme/api", tag: "1.0.1")
        let deadline = ContinuousClock.now + .seconds(20)
        while try await setup.duplicates() == repeatsBefore, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await setup.duplicates() == repeatsBefore + 1)
        #expect(try await setup.events().filter { $0["tag"] as? String == "1.0.1" }.count == 1)

        // A push by digest: journaled as ignored with the reason; no reference moves.
        let byDigest = try await setup.makeImage()
        try await setup.push(byDigest.name, to: "acme/api", tag: nil, digest: byDigest.digest)
        let untagged = try await setup.finished(digest: byDigest.digest)
        #expect(untagged["status"] as? String == "ignored")
        let untaggedID = try #require(untagged["id"] as? String)
        let steps = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(setup.adminPort)/v1/events/\(untaggedID)"))
        #expect(String(decoding: steps.body, as: UTF8.self).contains("untagged push"))

        // A multi-arch push with no batch window: the children arrive first, untagged, and move
        // nothing; the index arrives with its tag and is written once, with the index's digest.
        let multi = try await setup.makeMultiArchImage()
        try await setup.push(multi.name, to: "acme/api", tag: "2.0.0")
        let index = try await setup.finished(tag: "2.0.0")
        #expect(index["status"] as? String == "done")
        #expect(index["digest"] as? String == multi.index)
        for child in multi.children { #expect(try await setup.finished(digest: child)["status"] as? String == "ignored") }
        #expect(try await setup.git("show", "main:envs/prd/api.yaml").contains("registry.test/acme/api:2.0.0@\(multi.index)"))
        #expect(try await setup.commits() == start + 6)
        for commit in ["main", "main~1"] {
            #expect(try await setup.git("log", "-1", "--format=%(trailers:key=Imagebump-Event,valueonly)", commit) == index["id"] as? String)
        }

        // Two images, one ingress request id on every delivery: each is its own event.
        let worker = try await setup.makeImage()
        try await setup.push(worker.name, to: "acme/worker", tag: "5.0.0")
        #expect(try await setup.finished(tag: "5.0.0")["status"] as? String == "done")
        #expect(try await setup.git("show", "main:envs/dev/worker.yaml").contains("registry.test/acme/worker:5.0.0"))

        // Never twice: every event id is in the trailers of exactly one commit per target.
        let trailers = try await setup.git(
            "log", "--format=%(trailers:key=Imagebump-Target,valueonly,separator=)%(trailers:key=Imagebump-Event,valueonly,separator=)",
            "main"
        ).split(separator: "\n")
        #expect(Set(trailers).count == trailers.count)
        #expect(trailers.count == 7, "\(trailers)")
    }

    @Test func withTheDefaultWindowAMultiArchPushAndALateUntaggedPushWriteTheTagOnce() async throws {
        let setup = try await Setup(batchWindowMs: 2000)
        defer { setup.stop() }
        let start = try await setup.commits()

        let multi = try await setup.makeMultiArchImage()
        try await setup.push(multi.name, to: "acme/api", tag: "3.0.0")
        let index = try await setup.finished(tag: "3.0.0")
        #expect(index["status"] as? String == "done")
        #expect(try await setup.git("show", "main:envs/prd/api.yaml").contains("registry.test/acme/api:3.0.0@\(multi.index)"))
        #expect(try await setup.commits() == start + 2)

        // A tag push, then within the window an untagged push of the same image: the tag is
        // written, with its own digest; the untagged one supersedes nothing.
        let tagged = try await setup.makeImage()
        let other = try await setup.makeImage()
        try await setup.push(tagged.name, to: "acme/api", tag: "4.0.0")
        try await setup.push(other.name, to: "acme/api", tag: nil, digest: other.digest)
        let event = try await setup.finished(tag: "4.0.0")
        #expect(event["status"] as? String == "done")
        #expect(try await setup.finished(digest: other.digest)["status"] as? String == "ignored")
        #expect(try await setup.git("show", "main:envs/prd/api.yaml").contains("registry.test/acme/api:4.0.0@\(tagged.digest)"))
        #expect(try await setup.commits() == start + 4)
    }
}
