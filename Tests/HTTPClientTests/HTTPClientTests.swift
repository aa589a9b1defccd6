import Foundation
import HTTPClient
import Runtime
import Synchronization
import TestSupport
import Testing

@Suite struct CurlClientTests {
    @Test func sendsMethodHeadersAndBodyAndReadsTheResponse() async throws {
        let double = try HTTPDouble { request in
            .json(
                201, ["method": request.method, "echo": String(decoding: request.body, as: UTF8.self)], headers: [("X-Request-Id", "abc")])
        }
        let client = CurlClient()
        let response = try await client.send(
            HTTPRequest(
                method: "POST", url: "\(double.url)/repos/o/r/pulls?x=1",
                headers: [("Authorization", "Bearer t0ken"), ("Content-Type", "application/json")], body: Array("{\"a\":1}".utf8)))
        #expect(response.status == 201)
        #expect(response.header("X-Request-Id") == "abc")
        #expect(response.header("content-type") == "application/json; charset=utf-8")
        let request = try #require(double.requests.first)
        #expect(request.method == "POST")
        #expect(request.target == "/repos/o/r/pulls?x=1")
        #expect(request.headers["authorization"] == "Bearer t0ken")
        #expect(request.headers["user-agent"] == "imagebump/0.1")
        #expect(request.headers["expect"] == nil)
        #expect(request.json?["a"] as? Int == 1)

        let patch = try await client.send(HTTPRequest(method: "PATCH", url: double.url + "/x", body: Array("{}".utf8)))
        #expect(patch.status == 201)
        #expect(double.requests.last?.method == "PATCH")
    }

    @Test func slowResponsesTimeOut() async throws {
        let double = try HTTPDouble { _ in DoubleResponse(status: 200, body: "late", delay: .seconds(2)) }
        let client = CurlClient(settings: HTTPClientSettings(totalTimeout: .milliseconds(300)))
        do {
            _ = try await client.send(HTTPRequest(method: "GET", url: double.url + "/slow"))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.code == .timeout)
            #expect(error.description.hasPrefix("GET http://127.0.0.1:\(double.port)/slow"))
        }
    }

    @Test func largeBodiesAreRefused() async throws {
        let double = try HTTPDouble { _ in DoubleResponse(status: 200, body: String(repeating: "x", count: 100_000)) }
        let client = CurlClient(settings: HTTPClientSettings(maximumResponseBytes: 10_000))
        await #expect(throws: HTTPClientError.self) { try await client.send(HTTPRequest(method: "GET", url: double.url)) }
        do { _ = try await client.send(HTTPRequest(method: "GET", url: double.url)) } catch { #expect(error.code == .responseTooLarge) }
    }

    @Test func onlyHTTPAndHTTPSAreSpoken() async {
        do {
            _ = try await CurlClient().send(HTTPRequest(method: "GET", url: "file:///etc/passwd"))
            Issue.record("file:// must be refused")
        } catch {
            #expect(error.code == .unsupportedURL)
        }
    }

    @Test func credentialsInURLsNeverReachMessages() async {
        do {
            _ = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://user:s3cr3t@127.0.0.1:1/x"))
            Issue.record("expected a connection failure")
        } catch {
            #expect(error.code == .unreachable)
            #expect(!error.description.contains("s3cr3t"))
        }
    }
}

@Suite struct RetryTests {
    /// Records the waits instead of sleeping.
    final class Waits: Sendable {
        let values = Mutex<[Duration]>([])
        var all: [Duration] { values.withLock { $0 } }
    }

    func client(_ waits: Waits, attempts: Int = 4, now: Date = Date()) -> RetryingTransport {
        RetryingTransport(
            CurlClient(),
            policy: RetryPolicy(
                attempts: attempts, baseDelay: .milliseconds(100), sleep: { duration in waits.values.withLock { $0.append(duration) } },
                now: { now }))
    }

    /// Answers the scripted responses in turn, then the last one forever.
    static func scripted(_ responses: [DoubleResponse]) throws -> HTTPDouble {
        let index = Mutex(0)
        return try HTTPDouble { _ in
            index.withLock { position in
                defer { position += 1 }
                return responses[min(position, responses.count - 1)]
            }
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        let double = try Self.scripted([DoubleResponse(status: 429, headers: [("Retry-After", "3")]), .json(200, ["ok": true])])
        let waits = Waits()
        let response = try await client(waits).send(HTTPRequest(method: "POST", url: double.url + "/pulls", body: Array("{}".utf8)))
        #expect(response.status == 200)
        #expect(waits.all == [.seconds(3)])
        #expect(double.requests.count == 2)
    }

    @Test func aRetryBudgetSpentStopsTheRetries() async throws {
        let double = try Self.scripted([DoubleResponse(status: 429, headers: [("Retry-After", "30")]), .json(200, ["ok": true])])
        let waits = Waits()
        // The caller (an event's write-back) has 5 s left: a 30 s wait is not made; its answer stands.
        let response = try await RetryBudget.$deadline.withValue(ContinuousClock.now + .seconds(5)) {
            try await client(waits).send(HTTPRequest(method: "POST", url: double.url + "/pulls", body: Array("{}".utf8)))
        }
        #expect(response.status == 429)
        #expect(waits.all.isEmpty)
        #expect(double.requests.count == 1)
    }

    @Test func rateLimitResetIsHonoured() async throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let double = try Self.scripted([
            .json(
                403, ["message": "API rate limit exceeded"], headers: [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "1700000007")]),
            .json(200, []),
        ])
        let waits = Waits()
        _ = try await client(waits, now: now).send(HTTPRequest(method: "GET", url: double.url))
        #expect(waits.all == [.seconds(7)])
    }

    @Test func aSecondaryRateLimitWithoutRetryAfterWaitsAMinute() async throws {
        // GitHub: "If you exceed a secondary rate limit … wait for at least one minute".
        let double = try Self.scripted([
            .json(403, ["message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."]),
            .json(200, []),
        ])
        let waits = Waits()
        let response = try await client(waits).send(HTTPRequest(method: "GET", url: double.url))
        #expect(response.status == 200)
        #expect(waits.all == [.seconds(60)])
        // Within an event's budget of 10 s the minute is not waited: the 403 stands.
        let budgeted = try Self.scripted([.json(403, ["message": "You have exceeded a secondary rate limit."]), .json(200, [])])
        let none = Waits()
        let refused = try await RetryBudget.$deadline.withValue(ContinuousClock.now + .seconds(10)) {
            try await client(none).send(HTTPRequest(method: "GET", url: budgeted.url))
        }
        #expect(refused.status == 403)
        #expect(none.all.isEmpty)
    }

    @Test func serverErrorsAreRetriedWithBackoffOnlyWhenReplayable() async throws {
        let double = try Self.scripted([DoubleResponse(status: 502), DoubleResponse(status: 503), .json(200, [])])
        let waits = Waits()
        let response = try await client(waits).send(HTTPRequest(method: "GET", url: double.url))
        #expect(response.status == 200)
        #expect(waits.all.count == 2)
        #expect(waits.all[0] >= .milliseconds(100) && waits.all[0] < .milliseconds(200))
        #expect(waits.all[1] >= .milliseconds(200) && waits.all[1] < .milliseconds(300))

        let post = try Self.scripted([DoubleResponse(status: 502), .json(201, [])])
        let postWaits = Waits()
        let posted = try await client(postWaits).send(HTTPRequest(method: "POST", url: post.url, body: []))
        #expect(posted.status == 502)  // a POST may have been processed: never replayed on 5xx
        #expect(post.requests.count == 1)
    }

    @Test func tooLongAWaitIsAnErrorAndGivingUpReturnsTheLastAnswer() async throws {
        let double = try Self.scripted([DoubleResponse(status: 429, headers: [("Retry-After", "3600")])])
        do {
            _ = try await client(Waits()).send(HTTPRequest(method: "GET", url: double.url))
            Issue.record("expected rateLimited")
        } catch {
            #expect(error.code == .rateLimited)
        }
        let failing = try Self.scripted([DoubleResponse(status: 500)])
        let response = try await client(Waits(), attempts: 3).send(HTTPRequest(method: "GET", url: failing.url))
        #expect(response.status == 500)
        #expect(failing.requests.count == 3)
    }

    @Test func authorizationIsAddedByItsLayer() async throws {
        let double = try HTTPDouble { _ in .json(200, []) }
        _ = try await AuthorizingTransport(CurlClient(), headers: [("PRIVATE-TOKEN", "glpat-x")]).send(
            HTTPRequest(method: "GET", url: double.url))
        #expect(double.requests.first?.headers["private-token"] == "glpat-x")
    }
}

/// TLS is always verified: a server whose CA is unknown is refused; with the CA bundle it works.
@Suite struct TLSTests {
    @Test func certificatesAreVerifiedAgainstTheConfiguredBundle() async throws {
        let pki = try TestCertificates.make()
        let root = try TemporaryDirectory.make("imagebump-tls")
        // The test Git HTTP server speaks TLS with --cert/--key; any answer proves the handshake.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PipelineTests/Fixtures/servers/git-http-server.py").path
        let server = try BackgroundServer(
            executable: "/usr/bin/env",
            arguments: [
                "python3", script, "--root", root.path, "--user", "u", "--password", "p", "--cert", pki.serverCertificate, "--key",
                pki.serverKey,
            ])
        let url = "https://localhost:\(server.port)/x.git/info/refs"
        do {
            _ = try await CurlClient().send(HTTPRequest(method: "GET", url: url))
            Issue.record("an unknown CA must be refused")
        } catch {
            #expect(error.code == .tls, "\(error)")
        }
        let response = try await CurlClient(settings: HTTPClientSettings(caBundle: pki.caCertificate)).send(
            HTTPRequest(method: "GET", url: url))
        #expect(response.status == 401)
        #expect(response.header("www-authenticate") == "Basic realm=\"git\"")
    }
}
