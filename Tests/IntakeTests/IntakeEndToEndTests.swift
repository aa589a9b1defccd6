import Crypto
import Events
import Foundation
import HTTPClient
import HTTPServer
import ImageReference
import Intake
import Journal
import Manifests
import Pipeline
import Promotion
import TestSupport
import Testing
import Workers

/// Intake to Git in one process: HTTP on a real socket, the SQLite journal, the dispatcher and
/// a real bare repository.
@Suite struct IntakeEndToEndTests {
    static let token = "ci-token-0123456789abcdef0123456789abcdef"
    static let adminToken = "admin-token-0123456789abcdef0123456789"
    static let githubSecret = "github-webhook-secret"

    struct Service {
        let remote: URL
        let journal: Journal
        let dispatcher: Dispatcher
        let server: HTTPServer
        /// The admin listener: status API, metrics, operator actions.
        let admin: HTTPServer
        var url: String { "http://127.0.0.1:\(server.port)" }
        var adminURL: String { "http://127.0.0.1:\(admin.port)" }

        init(
            remote: URL? = nil, journalPath: String? = nil, metrics: ServiceMetrics = .disabled,
            limiter: AuthenticationLimiter = AuthenticationLimiter()
        ) throws {
            self.remote = try remote ?? GitFixture.bareRepository(from: APIRelease.environmentRepository)
            let state = try TemporaryDirectory.make("imagebump-serve")
            journal = try Journal(testing: journalPath ?? state.appendingPathComponent("journal.sqlite").path)
            let target = GitTarget(
                name: "dev", repository: "env", url: self.remote.path, branch: "main", paths: [try PathGlob("envs/dev/**")], mode: .commit)
            let api = try ImageName(parsing: "ghcr.io/acme/api")
            let dispatcher = Dispatcher(
                journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
                routes: { $0 == api ? [Route(target: target, forge: nil, options: MergeRequestOptions())] : [] }, attempts: 2,
                baseDelay: .milliseconds(10), batchWindow: .zero, metrics: metrics)
            self.dispatcher = dispatcher
            let router = IntakeRouter(
                receivers: [
                    ReceiverSettings(name: "ci", type: .generic, secret: .init(value: IntakeEndToEndTests.token)),
                    ReceiverSettings(name: "github", type: .github, secret: .init(value: IntakeEndToEndTests.githubSecret)),
                    ReceiverSettings(
                        name: "registry", type: .distribution, secret: .init(value: IntakeEndToEndTests.token),
                        context: ReceiverContext(registryHost: "ghcr.io")),
                ], journal: journal, readiness: Readiness(journal: journal, targets: [target]), metrics: metrics,
                mergeNotices: MergeNoticeHandler(journal: journal, dispatcher: dispatcher, promotions: nil, route: { _, _ in nil }),
                ignoreReason: dispatcher.ignoreReason, limiter: limiter, adminToken: IntakeEndToEndTests.adminToken,
                accepted: { id, event in dispatcher.submit(id, event) })
            var settings = HTTPServerSettings()
            settings.port = 0
            server = try HTTPServer(settings: settings, immediate: router.immediate, deferred: router.deliver) { await router.handle($0) }
            server.start()
            admin = try HTTPServer(settings: settings) { await router.handleAdmin($0) }
            admin.start()
        }

        func post(
            _ path: String, _ body: String,
            headers: [(name: String, value: String)] = [("Authorization", "Bearer \(IntakeEndToEndTests.token)")]
        ) async throws -> HTTPResponse {
            try await CurlClient().send(
                HTTPRequest(
                    method: "POST", url: url + path, headers: headers + [("Content-Type", "application/json")], body: Array(body.utf8)))
        }

        /// A GET on the admin listener.
        func get(_ path: String) async throws -> [String: Any] {
            let response = try await CurlClient().send(HTTPRequest(method: "GET", url: adminURL + path))
            return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        }

        /// A POST on the admin listener, with the admin token unless `headers` say otherwise.
        func postAdmin(
            _ path: String, headers: [(name: String, value: String)] = [("Authorization", "Bearer \(IntakeEndToEndTests.adminToken)")]
        ) async throws -> HTTPResponse {
            try await CurlClient().send(HTTPRequest(method: "POST", url: adminURL + path, headers: headers, body: []))
        }

        /// Polls the status API until the event leaves `received`/`committed` (or 20 s pass).
        func waitUntilSettled(_ id: String) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let event = try await get("/v1/events/\(id)")
                if let status = event["status"] as? String, ["done", "failed", "ignored"].contains(status) { return event }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw GitFixture.Failure(description: "event \(id) did not settle")
        }
    }

    @Test func aCIPostBecomesACommitAndTheStatusAPIShowsEveryStep() async throws {
        let service = try Service()
        defer { service.server.shutdown(within: .seconds(2)) }
        let response = try await service.post("/v1/events", #"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#)
        #expect(response.status == 202)
        let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let accepted = try #require((answer?["events"] as? [[String: Any]])?.first)
        let id = try #require(accepted["id"] as? String)
        #expect(accepted["status"] as? String == "/v1/events/\(id)")
        #expect(accepted["duplicate"] as? Bool == false)

        let event = try await service.waitUntilSettled(id)
        #expect(event["status"] as? String == "done", "\(event)")
        let commit = try #require(event["commit"] as? String)
        #expect(try GitFixture.git(["--git-dir", service.remote.path, "rev-parse", "main"]) == commit)
        #expect(try GitFixture.git(["--git-dir", service.remote.path, "show", "main:envs/dev/api/values.yaml"]).contains("tag: \"1.4.2\""))
        #expect((event["steps"] as? [[String: String]])?.map { $0["step"] ?? "" } == ["received", "committed", "done"])

        // The same delivery again joins the existing event: no second commit.
        let replay = try await service.post("/v1/events", #"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#)
        let replayed = try #require(
            ((try JSONSerialization.jsonObject(with: Data(replay.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first)
        #expect(replayed["duplicate"] as? Bool == true)
        #expect(replayed["id"] as? String == id)
        #expect(try GitFixture.git(["--git-dir", service.remote.path, "rev-list", "--count", "main"]) == "2")

        let list = try await service.get("/v1/events?status=done&image=ghcr.io/acme/api")
        #expect((list["events"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
    }

    @Test func aTwoEventEnvelopeBehindAnIngressKeepsBothEvents() async throws {
        let service = try Service()
        let envelope = try String(contentsOf: fixturesDirectory().appendingPathComponent("distribution-two-images.json"), encoding: .utf8)
        func deliver(requestID: String) async throws -> [[String: Any]] {
            let response = try await service.post(
                "/hooks/registry", envelope,
                headers: [("Authorization", "Bearer \(IntakeEndToEndTests.token)"), ("X-Request-Id", requestID)])
            #expect(response.status == 202)
            return ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["events"] as? [[String: Any]]) ?? []
        }
        // An ingress's request id is no delivery id: both events of the envelope are new.
        let first = try await deliver(requestID: "ingress-1")
        #expect(first.map { $0["image"] as? String } == ["ghcr.io/acme/api:1.4.2@sha256:" + String(repeating: "1", count: 64),
                                                         "ghcr.io/acme/worker:2.0.0@sha256:" + String(repeating: "2", count: 64)])
        #expect(first.allSatisfy { $0["duplicate"] as? Bool == false })
        // The same envelope again (the registry retries), through another request id: the same two events.
        let again = try await deliver(requestID: "ingress-2")
        #expect(again.allSatisfy { $0["duplicate"] as? Bool == true })
        #expect(again.map { $0["id"] as? String } == first.map { $0["id"] as? String })
        // And another envelope through the same request id is new work.
        let other = envelope.replacingOccurrences(of: "d0001", with: "d0003").replacingOccurrences(of: "1.4.2", with: "1.4.3")
            .replacingOccurrences(of: String(repeating: "1", count: 64), with: String(repeating: "3", count: 64))
        let response = try await service.post(
            "/hooks/registry", other, headers: [("Authorization", "Bearer \(IntakeEndToEndTests.token)"), ("X-Request-Id", "ingress-1")])
        let events = ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["events"] as? [[String: Any]]) ?? []
        #expect(events.first?["duplicate"] as? Bool == false)
        #expect(events.last?["duplicate"] as? Bool == true)  // the worker event of the first envelope
    }

    @Test func badDeliveriesGetClearAnswers() async throws {
        let service = try Service()
        defer { service.server.shutdown(within: .seconds(2)) }
        let payload = try String(
            contentsOf: fixturesDirectory().appendingPathComponent("github-registry-package-published.json"), encoding: .utf8)
        let signature = "sha256=" + HMAC.hex(HMAC.sha256(key: Array(Self.githubSecret.utf8), data: Array(payload.utf8)))

        let unauthorized = try await service.post(
            "/hooks/github", payload, headers: [("X-GitHub-Event", "registry_package"), ("X-Hub-Signature-256", "sha256=00")])
        #expect(unauthorized.status == 401)
        #expect(unauthorized.bodyText.contains(#""error":"unauthorized""#))

        let tampered = try await service.post(
            "/hooks/github", payload + " ", headers: [("X-GitHub-Event", "registry_package"), ("X-Hub-Signature-256", signature)])
        #expect(tampered.status == 401)

        let ping = try await service.post(
            "/hooks/github", #"{"zen":"x"}"#,
            headers: [
                ("X-GitHub-Event", "ping"),
                (
                    "X-Hub-Signature-256",
                    "sha256=" + HMAC.hex(HMAC.sha256(key: Array(Self.githubSecret.utf8), data: Array(#"{"zen":"x"}"#.utf8)))
                ),
            ])
        #expect(ping.status == 200)
        #expect(ping.bodyText == #"{"ignored":"ping"}"#)

        // Signed and valid, for an image no target takes: journaled, then ignored.
        let unrouted = try await service.post(
            "/hooks/github", payload,
            headers: [("X-GitHub-Event", "registry_package"), ("X-Hub-Signature-256", signature), ("X-GitHub-Delivery", "d-1")])
        #expect(unrouted.status == 202)
        let id = try #require(
            (((try JSONSerialization.jsonObject(with: Data(unrouted.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first?["id"])
                as? String)
        #expect(try await service.waitUntilSettled(id)["status"] as? String == "ignored")

        let undecodable = try await service.post("/v1/events", #"{"tag": "1.0"}"#)
        #expect(undecodable.status == 400)
        #expect(undecodable.bodyText.contains(#""error":"undecodable payload""#))

        let unknown = try await service.post("/hooks/nope", "{}")
        #expect(unknown.status == 404)
        let wrongMethod = try await CurlClient().send(HTTPRequest(method: "GET", url: service.url + "/hooks/ci"))
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("allow") == "POST")
        #expect(try await service.get("/healthz")["status"] as? String == "ok")
    }

    @Test func eventsAcceptedBeforeACrashAreFinishedAfterARestart() async throws {
        let state = try TemporaryDirectory.make("imagebump-crash")
        let journalPath = state.appendingPathComponent("journal.sqlite").path
        let remote = try GitFixture.bareRepository(from: APIRelease.environmentRepository)
        // A previous run journaled the event and stopped before working on it.
        let previous = try Journal(testing: journalPath)
        guard
            case .accepted(let events) = try DeliveryDecoder.decode(
                .generic, headers: [:], body: Array(#"{"image":"ghcr.io/acme/api:1.4.3"}"#.utf8))
        else {
            Issue.record("not accepted")
            return
        }
        let (id, _) = try await previous.record(events[0])
        previous.close()

        let service = try Service(remote: remote, journalPath: journalPath)
        defer { service.server.shutdown(within: .seconds(2)) }
        try await service.dispatcher.recover()
        await service.dispatcher.drain()
        #expect(try await service.journal.event(id)?.status == .done)
        #expect(try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/dev/api/values.yaml"]).contains("tag: \"1.4.3\""))
    }
}

@Suite struct RetryRouteTests {
    @Test func failedOrIgnoredEventsCanBeRetriedWithTheToken() async throws {
        let service = try IntakeEndToEndTests.Service()
        defer { service.server.shutdown(within: .seconds(2)) }
        let accepted = try await service.post("/v1/events", #"{"image": "ghcr.io/acme/unrouted", "tag": "1.0"}"#)
        let id = try #require(
            (((try JSONSerialization.jsonObject(with: Data(accepted.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first?["id"])
                as? String)
        #expect(try await service.waitUntilSettled(id)["status"] as? String == "ignored")

        let unauthorized = try await service.postAdmin("/v1/events/\(id)/retry", headers: [])
        #expect(unauthorized.status == 401)
        // The receiver's token is no operator token.
        let withReceiverToken = try await service.postAdmin(
            "/v1/events/\(id)/retry", headers: [("Authorization", "Bearer \(IntakeEndToEndTests.token)")])
        #expect(withReceiverToken.status == 401)
        #expect(try await service.post("/v1/events/\(id)/retry", "").status == 404)  // not on the public port
        let retried = try await service.postAdmin("/v1/events/\(id)/retry")
        #expect(retried.status == 202)
        let settled = try await service.waitUntilSettled(id)
        #expect((settled["steps"] as? [[String: String]])?.map { $0["step"] ?? "" } == ["received", "ignored", "received", "ignored"])

        let done = try await service.post("/v1/events", #"{"image": "ghcr.io/acme/api", "tag": "1.5.0"}"#)
        let doneID = try #require(
            (((try JSONSerialization.jsonObject(with: Data(done.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first?["id"])
                as? String)
        #expect(try await service.waitUntilSettled(doneID)["status"] as? String == "done")
        #expect(try await service.postAdmin("/v1/events/\(doneID)/retry").status == 409)
    }
}

@Suite struct MergeWebhookRouteTests {
    @Test func aSignedMergeNoticeIsJournaledThenAnsweredWithWhatItNames() async throws {
        let service = try IntakeEndToEndTests.Service()
        defer { service.server.shutdown(within: .seconds(2)) }
        let payload = try String(
            contentsOf: fixturesDirectory().appendingPathComponent("github-pull-request-merged.json"), encoding: .utf8)
        let signature = "sha256=" + HMAC.hex(HMAC.sha256(key: Array(IntakeEndToEndTests.githubSecret.utf8), data: Array(payload.utf8)))
        let merged = try await service.post(
            "/hooks/github", payload, headers: [("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", signature)])
        #expect(merged.status == 202)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(merged.body)) as? [String: String])
        #expect(answer["merged"] == "#42 (acc, ghcr.io/acme/api)")
        #expect(answer["branch"] == "imagebump/acc/ghcr.io-acme-api")
        let id = try #require(answer["id"])
        // Durable before the answer; handled (and marked so) right after.
        let recorded = try await service.journal.recordMergeNotice(
            MergeNotice(target: "acc", image: "ghcr.io/acme/api", number: 42, merged: true, branch: "imagebump/acc/ghcr.io-acme-api"),
            source: "test")
        #expect(recorded.id == id)
        #expect(!recorded.isNew)
        let redelivered = try await service.post(
            "/hooks/github", payload, headers: [("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", signature)])
        #expect(redelivered.status == 202)
        #expect((try JSONSerialization.jsonObject(with: Data(redelivered.body)) as? [String: String])?["id"] == id)
        let forged = try await service.post(
            "/hooks/github", payload, headers: [("X-GitHub-Event", "pull_request"), ("X-Hub-Signature-256", "sha256=00")])
        #expect(forged.status == 401)
    }
}
