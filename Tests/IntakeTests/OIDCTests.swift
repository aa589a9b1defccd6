import Crypto
import Events
import Foundation
import HTTPClient
import HTTPServer
import Synchronization
import Journal
import TestSupport
import Testing

@testable import Intake

/// Pub/Sub push to a `gcr` receiver: the Google-signed OIDC token is verified (RS256 against
/// the issuer's JWKS, served here by a local double; tokens signed by a test key).
@Suite struct OIDCTests {
    static let audience = "https://imagebump.example.com/hooks/gcr"
    static let account = "push@acme-prod.iam.gserviceaccount.com"

    /// A test RSA key and its JWK.
    struct Key {
        let signer: RSASigner
        /// The JWK, as the JWKS endpoint serves it (JSON text).
        let jwk: String

        init(kid: String) throws {
            let file = try TemporaryDirectory.make("imagebump-oidc").appendingPathComponent("key.pem")
            try Command.succeed("/usr/bin/openssl", ["genrsa", "-out", file.path, "2048"])
            signer = try RSASigner(pem: try String(contentsOf: file, encoding: .utf8))
            let modulus = try Command.succeed("/usr/bin/openssl", ["rsa", "-in", file.path, "-noout", "-modulus"])
                .trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("Modulus=".count)
            var bytes: [UInt8] = []
            var index = modulus.startIndex
            while index < modulus.endIndex {
                let next = modulus.index(index, offsetBy: 2)
                bytes.append(UInt8(modulus[index..<next], radix: 16) ?? 0)
                index = next
            }
            jwk = #"{"kty": "RSA", "kid": "\#(kid)", "alg": "RS256", "use": "sig", "n": "\#(Self.base64URL(bytes))", "e": "AQAB"}"#
        }

        static func base64URL(_ bytes: [UInt8]) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }

        func token(kid: String, claims: [String: Any]) throws -> String {
            let header = Self.base64URL(Array(try JSONSerialization.data(withJSONObject: ["alg": "RS256", "kid": kid, "typ": "JWT"])))
            let payload = Self.base64URL(Array(try JSONSerialization.data(withJSONObject: claims)))
            let signature = try signer.signSHA256(Array("\(header).\(payload)".utf8))
            return "\(header).\(payload).\(Self.base64URL(signature))"
        }
    }

    static func claims(now: Double, _ changes: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": "https://accounts.google.com", "aud": audience, "email": account, "email_verified": true, "iat": Int(now),
            "exp": Int(now) + 3600, "sub": "1234567890",
        ]
        for (key, value) in changes { claims[key] = value }
        return claims
    }

    /// A JWKS endpoint whose key list the test changes (a rotation).
    final class Keys: Sendable {
        let list = Mutex<[String]>([])
        var document: String { #"{"keys": [\#(list.withLock { $0.joined(separator: ", ") })]}"# }
    }

    static func served(_ document: String) -> DoubleResponse {
        DoubleResponse(status: 200, headers: [("Content-Type", "application/json")], body: document)
    }

    /// The failure of a check, or nil when it passed.
    static func failure(_ result: Result<Void, OIDCToken.Failure>) -> OIDCToken.Failure? {
        if case .failure(let failure) = result { failure } else { nil }
    }

    @Test func tokensAreCheckedForSignatureIssuerAudienceExpiryAndAccount() async throws {
        let first = try Key(kid: "k1")
        let keys = Keys()
        keys.list.withLock { $0 = [first.jwk] }
        let endpoint = try HTTPDouble { _ in Self.served(keys.document) }
        let jwks = JWKS(settings: OIDCSettings(audience: Self.audience, serviceAccount: Self.account, jwksURL: endpoint.url + "/certs"))
        await jwks.refresh()
        let now = Date().timeIntervalSince1970
        func check(_ token: String) -> OIDCToken.Failure? { Self.failure(jwks.verify(authorization: "Bearer \(token)", now: now)) }

        #expect(try check(first.token(kid: "k1", claims: Self.claims(now: now))) == nil)
        #expect(try check(first.token(kid: "k1", claims: Self.claims(now: now, ["aud": "https://other"]))) == .claims("aud is not \(Self.audience)"))
        #expect(try check(first.token(kid: "k1", claims: Self.claims(now: now, ["email": "else@x.iam.gserviceaccount.com"])))
            == .claims("email is not the verified \(Self.account)"))
        #expect(try check(first.token(kid: "k1", claims: Self.claims(now: now, ["exp": Int(now) - 3600]))) == .claims("the token expired"))
        #expect(try check(first.token(kid: "k1", claims: Self.claims(now: now, ["iss": "https://evil.example.com"])))
            == .claims("iss is not https://accounts.google.com or accounts.google.com"))
        // A payload changed after signing.
        let genuine = try first.token(kid: "k1", claims: Self.claims(now: now)).split(separator: ".")
        let forged = try first.token(kid: "k1", claims: Self.claims(now: now, ["email": "attacker@x.iam.gserviceaccount.com"]))
            .split(separator: ".")
        #expect(check("\(genuine[0]).\(forged[1]).\(genuine[2])") == .badSignature)
        #expect(check("not-a-jwt") == .malformed("three base64url parts expected"))
        #expect(Self.failure(jwks.verify(authorization: nil, now: now)) == .malformed("no Bearer token"))

        // A rotation: a token signed by a key not fetched yet is refused and fetches the keys;
        // once they are in, it passes.
        let second = try Key(kid: "k2")
        keys.list.withLock { $0.append(second.jwk) }
        let rotated = try second.token(kid: "k2", claims: Self.claims(now: now))
        await jwks.refresh()  // what the refused token started, done here so the test need not wait on it
        #expect(check(rotated) == nil)
        #expect(endpoint.requests.count >= 2)
    }

    @Test func aPubSubPushIsAcceptedWithItsTokenAndRefusedWithout() async throws {
        let key = try Key(kid: "k1")
        let document = #"{"keys": [\#(key.jwk)]}"#
        let endpoint = try HTTPDouble { _ in Self.served(document) }
        let jwks = JWKS(settings: OIDCSettings(audience: Self.audience, serviceAccount: Self.account, jwksURL: endpoint.url + "/certs"))
        await jwks.refresh()
        let journal = try Journal(testing: try TemporaryDirectory.make("imagebump-oidc-journal").appendingPathComponent("j.sqlite").path)
        let router = IntakeRouter(
            receivers: [ReceiverSettings(name: "gcr", type: .gcr, secret: .init(value: ""), oidc: jwks)], journal: journal,
            accepted: { _, _ in })
        var settings = HTTPServerSettings()
        settings.port = 0
        let server = try HTTPServer(settings: settings, immediate: router.immediate, deferred: router.deliver) { await router.handle($0) }
        server.start()
        defer { server.shutdown(within: .seconds(2)) }
        let body = Array(
            try Data(contentsOf: PayloadExpectation.fixtures().appendingPathComponent("payloads/gcr-pubsub-push-insert-COMPOSED.json")))
        func push(_ headers: [(String, String)]) async throws -> Int {
            try await CurlClient().send(
                HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/hooks/gcr", headers: headers, body: body)
            ).status
        }
        let token = try key.token(kid: "k1", claims: Self.claims(now: Date().timeIntervalSince1970))
        #expect(try await push([("Authorization", "Bearer \(token)")]) == 202)
        #expect(try await push([]) == 401)
        // A fixed token is no OIDC token.
        #expect(try await push([("Authorization", "Bearer a-fixed-token-0123456789abcdef")]) == 401)
        journal.close()
    }
}
