import Crypto
import Forge
import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Testing

@Suite struct GitHubAppTests {
    /// A throw-away RSA key pair: (private PEM, public PEM path).
    static func keyPair() throws -> (privateKey: String, publicKeyPath: String) {
        let directory = try TemporaryDirectory.make("imagebump-app").path
        try Command.succeed("/usr/bin/openssl", ["genrsa", "-out", "\(directory)/app.pem", "2048"])
        try Command.succeed("/usr/bin/openssl", ["rsa", "-in", "\(directory)/app.pem", "-pubout", "-out", "\(directory)/app.pub"])
        return (try String(contentsOfFile: "\(directory)/app.pem", encoding: .utf8), "\(directory)/app.pub")
    }

    static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    @Test func theJWTVerifiesWithOpenSSLAndCarriesTheRightClaims() throws {
        let (key, publicKey) = try Self.keyPair()
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let jwt = try GitHubAppJWT.make(appID: "123456", privateKey: key, now: now)
        let parts = jwt.split(separator: ".")
        #expect(parts.count == 3)
        let header = try JSONSerialization.jsonObject(with: try #require(Self.base64URLDecode(parts[0]))) as? [String: String]
        #expect(header == ["alg": "RS256", "typ": "JWT"])
        let claims = try JSONSerialization.jsonObject(with: try #require(Self.base64URLDecode(parts[1]))) as? [String: Any]
        #expect(claims?["iat"] as? Int == 1_700_000_000 - 60)
        #expect(claims?["exp"] as? Int == 1_700_000_000 + 540)
        #expect(claims?["iss"] as? String == "123456")

        let directory = try TemporaryDirectory.make("imagebump-jwt")
        try Data("\(parts[0]).\(parts[1])".utf8).write(to: directory.appendingPathComponent("input"))
        try #require(Self.base64URLDecode(parts[2])).write(to: directory.appendingPathComponent("signature"))
        let verified = try Command.run(
            "/usr/bin/openssl",
            [
                "dgst", "-sha256", "-verify", publicKey, "-signature", directory.appendingPathComponent("signature").path,
                directory.appendingPathComponent("input").path,
            ])
        #expect(verified.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "Verified OK")
    }

    @Test func aBadKeyIsAClearError() {
        do throws(CryptoError) {
            _ = try GitHubAppJWT.make(appID: "1", privateKey: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", now: Date())
            Issue.record("expected a key error")
        } catch {
            #expect(error.operation == "PEM_read_bio_PrivateKey")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func installationTokensAreCachedAndRefreshedBeforeTheyExpire() async throws {
        let (key, _) = try Self.keyPair()
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let clock = TestClock()
        let tokens = GitHubAppTokens(
            credentials: GitHubAppCredentials(appID: "123456", installationID: "42", privateKey: key), transport: CurlClient(),
            apiBaseURL: github.apiURL,
            now: { clock.now })
        let first = try await tokens.token()
        let second = try await tokens.token()
        #expect(first == "ghs_installation1")
        #expect(second == first)
        // The token call carries GitHub's API version and a User-Agent, as every call must.
        let tokenCall = try #require(github.requests.first { $0.path == "/app/installations/42/access_tokens" })
        #expect(tokenCall.headers["x-github-api-version"] == "2022-11-28")
        #expect(tokenCall.headers["user-agent"]?.hasPrefix("imagebump/") == true)
        #expect(github.requests.filter { $0.path == "/app/installations/42/access_tokens" }.count == 1)

        github.installations.state.withLock { $0.lifetime = 7200 }  // the next token outlives the moved clock
        clock.advance(by: 3600 - 200)  // within five minutes of the first token's expiry
        #expect(try await tokens.token() == "ghs_installation2")
        #expect(github.requests.filter { $0.path == "/app/installations/42/access_tokens" }.count == 2)

        // The forge works with the installation token.
        let forge = GitHubForge(
            transport: GitHubAppTransport(CurlClient(), tokens: tokens), apiBaseURL: github.apiURL, repository: "acme/env")
        _ = try await forge.openMergeRequest(GitHubForgeTests.content())
        #expect(
            github.requests.last { $0.method == "POST" && $0.path == "/repos/acme/env/pulls" }?.headers["authorization"]
                == "Bearer ghs_installation2")
    }
}

/// A clock a test moves by hand.
final class TestClock: Sendable {
    private let time = Mutex(Date())
    var now: Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
