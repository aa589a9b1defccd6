import Configuration
import Foundation
import HTTPClient
import ImageReference
@testable import Registry
import Synchronization
import TestSupport
import Testing

/// The registry client against Debian's real CNCF distribution registry: anonymous, htpasswd
/// basic auth, the bearer-token flow with a realm the test serves, TLS with a private CA —
/// images pushed by skopeo. What the real registry cannot do (pages, 429) against a double.
@Suite struct RegistryClientTests {
    static func settings(_ host: String, user: String? = nil, password: String? = nil, insecure: Bool = true) -> RegistrySettings {
        var settings = RegistrySettings(host: host)
        settings.insecure = insecure
        settings.username = user
        if let password {
            let file = (try? TemporaryDirectory.make("imagebump-registry-secret"))?.appendingPathComponent("password")
            try? password.write(to: file!, atomically: true, encoding: .utf8)
            settings.password = .file(file!.path)
        }
        return settings
    }

    @Test func anonymousReadsTagsAndDigestsIncludingAMultiArchIndex() async throws {
        let registry = try await blocking { try RealRegistry() }
        let single = try await blocking { try registry.pushNew("acme/api", tags: ["1.0.0", "1.1.0"]) }
        let multi = try await blocking { () throws -> (name: String, index: String, children: [String]) in
            let image = try registry.makeMultiArchImage()
            try registry.push(image.name, to: "acme/api", tag: "2.0.0")
            return image
        }
        let client = RegistryClient(settings: Self.settings(registry.host))
        #expect(try await client.tags("acme/api").sorted() == ["1.0.0", "1.1.0", "2.0.0"])
        #expect(try await client.digest("acme/api", reference: "1.1.0")?.description == single)
        // A multi-arch tag answers with its index's digest, as the registry's push event carries it.
        #expect(try await client.digest("acme/api", reference: "2.0.0")?.description == multi.index)
        #expect(try await client.digest("acme/api", reference: "9.9.9") == nil)
        await #expect(throws: RegistryError.self) { try await client.tags("acme/nothing") }
    }

    @Test func basicAuthenticationWithHtpasswd() async throws {
        let registry = try await blocking { try RealRegistry(authentication: .basic(user: "ci", password: "s3cret-basic")) }
        let digest = try await blocking { try registry.pushNew("acme/api", tags: ["1.0.0"]) }
        let good = RegistryClient(settings: Self.settings(registry.host, user: "ci", password: "s3cret-basic"))
        #expect(try await good.tags("acme/api") == ["1.0.0"])
        #expect(try await good.digest("acme/api", reference: "1.0.0")?.description == digest)
        for client in [
            RegistryClient(settings: Self.settings(registry.host, user: "ci", password: "wrong-password")),
            RegistryClient(settings: Self.settings(registry.host)),
        ] {
            do {
                _ = try await client.tags("acme/api")
                Issue.record("a refused login read the tags")
            } catch {
                #expect(error.code == .unauthorized)
                #expect(error.message.contains("registries[].username and password"))
                #expect(!error.message.contains("wrong-password"))
            }
        }
    }

    @Test func bearerTokensFromTheRealmAreReusedPerRepositoryScope() async throws {
        let service = try RegistryTokenService(user: "robot", password: "token-flow-password")
        let registry = try await blocking { try RealRegistry(authentication: .token(service)) }
        let digest = try await blocking { try registry.pushNew("acme/api", tags: ["1.0.0", "1.0.1"]) }
        try await blocking { _ = try registry.pushNew("acme/worker", tags: ["3.0.0"]) }
        let pushTokens = service.tokens.count
        let counted = CountingTransport()
        let client = RegistryClient(settings: Self.settings(registry.host, user: "robot", password: "token-flow-password"), transport: counted)
        #expect(try await client.tags("acme/api").sorted() == ["1.0.0", "1.0.1"])
        #expect(try await client.tags("acme/api").sorted() == ["1.0.0", "1.0.1"])
        #expect(try await client.digest("acme/api", reference: "1.0.1")?.description == digest)
        #expect(try await client.tags("acme/worker") == ["3.0.0"])
        // One token per repository scope, reused: api's three reads asked once, worker's once.
        #expect(Array(service.tokens.dropFirst(pushTokens)) == ["repository:acme/api:pull", "repository:acme/worker:pull"])
        // Per scope: one anonymous try answered 401, one token request, then the reads with it.
        #expect(counted.statuses == [401, 200, 200, 200, 200, 401, 200, 200])
        let refused = RegistryClient(settings: Self.settings(registry.host, user: "robot", password: "not-it"))
        do {
            _ = try await refused.tags("acme/api")
            Issue.record("the realm's refusal was not an error")
        } catch {
            #expect(error.code == .unauthorized)
            #expect(error.message.contains("token service answered 401"))
        }
    }

    @Test func tlsIsVerifiedWithTheConfiguredBundle() async throws {
        let certificates = try await blocking { try TestCertificates.make() }
        let registry = try await blocking { try RealRegistry(tls: certificates) }
        try await blocking { _ = try registry.pushNew("acme/api", tags: ["1.0.0"]) }
        var trusted = Self.settings(registry.host, insecure: false)
        trusted.caBundle = certificates.caCertificate
        #expect(try await RegistryClient(settings: trusted).tags("acme/api") == ["1.0.0"])
        // Without the bundle the private CA is not trusted: no answer is read.
        do {
            _ = try await RegistryClient(settings: Self.settings(registry.host, insecure: false)).tags("acme/api")
            Issue.record("an untrusted certificate was accepted")
        } catch {
            #expect(error.code == .unreachable)
        }
    }

    @Test func tagsFollowLinkPagesToTheEnd() async throws {
        let all = (0..<250).map { "1.0.\($0)" }
        let double = try HTTPDouble { request in
            let last = request.query["last"]
            let n = Int(request.query["n"] ?? "100") ?? 100
            let start = last.flatMap { all.firstIndex(of: $0).map { $0 + 1 } } ?? 0
            let page = Array(all[start..<min(start + min(n, 100), all.count)])
            var headers: [(String, String)] = []
            if start + page.count < all.count {
                headers.append(("Link", "</v2/acme/api/tags/list?n=100&last=\(page.last!)>; rel=\"next\""))
            }
            return .json(200, ["name": "acme/api", "tags": page], headers: headers)
        }
        let client = RegistryClient(settings: Self.settings("127.0.0.1:\(double.port)"))
        #expect(try await client.tags("acme/api") == all)
        #expect(double.requests.count == 3)
        #expect(double.requests.first?.query["n"] == "1000")
    }

    @Test func aRateLimitIsWaitedOutAsTheRegistrySays() async throws {
        let calls = Mutex(0)
        let double = try HTTPDouble { _ in
            let call = calls.withLock { $0 += 1; return $0 }
            if call == 1 { return DoubleResponse(status: 429, headers: [("Retry-After", "1")], body: "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\"}]}") }
            return .json(200, ["name": "acme/api", "tags": ["1.0.0"]])
        }
        let start = ContinuousClock.now
        let client = RegistryClient(settings: Self.settings("127.0.0.1:\(double.port)"))
        #expect(try await client.tags("acme/api") == ["1.0.0"])
        #expect(ContinuousClock.now - start >= .seconds(1))  // it waited as asked, not less
        #expect(calls.withLock { $0 } == 2)
    }

    @Test func aUsedUpRateLimitIsNotAskedAgainUntilItsWindowPassed() async throws {
        let double = try HTTPDouble { _ in .json(200, ["name": "library/nginx", "tags": ["1.27"]], headers: [("RateLimit-Remaining", "0;w=21600")]) }
        let client = RegistryClient(settings: Self.settings("127.0.0.1:\(double.port)"))
        #expect(try await client.tags("library/nginx") == ["1.27"])
        do {
            _ = try await client.tags("library/nginx")
            Issue.record("a used-up rate limit was asked again")
        } catch {
            #expect(error.code == .rateLimited)
            #expect(error.message.contains("reads resume in 21600 s"), "\(error)")
        }
        #expect(double.requests.count == 1)
    }

    @Test func dockerHubIsReadAtItsRegistryHost() {
        #expect(RegistryClient(settings: RegistrySettings(host: "docker.io")).base == "https://registry-1.docker.io")
        #expect(RegistryClient(settings: RegistrySettings(host: "ghcr.io")).base == "https://ghcr.io")
        #expect((try? ImageName(parsing: "nginx"))?.path == "library/nginx")
    }

    @Test func linkHeadersNameTheNextPage() throws {
        #expect(RegistryClient.nextPage("</v2/a/tags/list?n=2&last=b>; rel=\"next\"") == "/v2/a/tags/list?n=2&last=b")
        #expect(RegistryClient.nextPage("<https://x/prev>; rel=\"prev\"") == nil)
    }

    @Test func challengesParseAsRFC7235WritesThem() throws {
        let hub = try #require(
            AuthenticationChallenge(#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#))
        #expect(hub.scheme == "bearer")
        #expect(hub.parameters == ["realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/nginx:pull"])
        let basic = try #require(AuthenticationChallenge(#"Basic realm="a \"quoted\" realm", charset=UTF-8"#))
        #expect(basic.scheme == "basic")
        #expect(basic.parameters == ["realm": #"a "quoted" realm"#, "charset": "UTF-8"])
    }
}

/// Sends through libcurl and remembers every status.
final class CountingTransport: HTTPTransport {
    let inner = CurlClient()
    private let seen = Mutex<[Int]>([])
    var statuses: [Int] { seen.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let response = try await inner.send(request)
        seen.withLock { $0.append(response.status) }
        return response
    }
}
