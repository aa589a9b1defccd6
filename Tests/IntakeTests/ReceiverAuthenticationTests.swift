import Crypto
import Events
import Intake
import Foundation
import TestSupport
import Testing

@Suite struct ReceiverAuthenticationTests {
    static let secret = "s3cr3t-webhook-key"
    static let body = Array(#"{"action":"published"}"#.utf8)
    static func sha256(_ body: [UInt8] = body) -> String { HMAC.hex(HMAC.sha256(key: Array(secret.utf8), data: body)) }
    static func sha1(_ body: [UInt8] = body) -> String { HMAC.hex(HMAC.sha1(key: Array(secret.utf8), data: body)) }

    static let valid: [(ReceiverType, [String: String], String?)] = [
        (.github, ["x-hub-signature-256": "sha256=\(sha256())"], nil),
        (.gitea, ["x-gitea-signature": sha256()], nil),
        (.gitea, ["x-forgejo-signature": sha256().uppercased()], nil),
        (.nexus, ["x-nexus-webhook-signature": sha1()], nil),
        (.harbor, ["authorization": secret], nil),
        (.distribution, ["authorization": "Bearer \(secret)"], nil),
        (.gitlab, ["x-gitlab-token": secret], nil),
        (.acr, ["authorization": secret], nil),
        (.ecr, ["authorization": secret], nil),
        (.gcr, ["authorization": "Bearer \(secret)"], nil),
        (.artifactory, ["x-jfrog-event-auth": secret], nil),
        (.artifactory, ["x-jfrog-event-auth": sha256()], nil),
        (.generic, ["authorization": "Bearer \(secret)"], nil),
        (.generic, ["x-signature": "sha256=\(sha256())"], nil),
        (.dockerhub, [:], secret),
        (.quay, [:], secret),
    ]

    @Test func theKnownSampleSignatureMatchesGitHubsDocumentation() {
        // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody",
        // payload "Hello, World!" → this signature.
        let signature = HMAC.hex(HMAC.sha256(key: Array("It's a Secret to Everybody".utf8), data: Array("Hello, World!".utf8)))
        #expect(signature == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    @Test func eachSchemeAcceptsItsOwnProof() {
        for (type, headers, token) in Self.valid {
            #expect(
                ReceiverAuthentication.verify(type, secret: .init(value: Self.secret), headers: headers, body: Self.body, pathToken: token),
                "\(type) \(headers)")
        }
    }

    @Test func aTamperedBodyAWrongSecretOrAMissingHeaderIsRefused() {
        let tampered = Array(#"{"action":"published","x":1}"#.utf8)
        for (type, headers, token) in Self.valid {
            let wrong = ReceiverAuthentication.Secret(value: "another-secret-value")
            #expect(
                !ReceiverAuthentication.verify(type, secret: wrong, headers: headers, body: Self.body, pathToken: token),
                "wrong secret accepted: \(type)")
            #expect(
                !ReceiverAuthentication.verify(type, secret: .init(value: Self.secret), headers: [:], body: Self.body, pathToken: nil),
                "no proof accepted: \(type)")
            let signs = headers.keys.contains { $0.contains("signature") } || headers.values.contains { $0 == Self.sha256() }
            if signs {
                #expect(
                    !ReceiverAuthentication.verify(
                        type, secret: .init(value: Self.secret), headers: headers, body: tampered, pathToken: token),
                    "tampered body accepted: \(type)")
            }
        }
    }

    @Test func aCustomHeaderNameIsHonoured() {
        let secret = ReceiverAuthentication.Secret(value: Self.secret, header: "X-Api-Key")
        #expect(ReceiverAuthentication.verify(.ecr, secret: secret, headers: ["x-api-key": Self.secret], body: [], pathToken: nil))
        #expect(!ReceiverAuthentication.verify(.ecr, secret: secret, headers: ["authorization": Self.secret], body: [], pathToken: nil))
    }

    @Test func theConstantTimeCompareSeesEveryByteAndTheLength() {
        let secret = "s3cret-token-0123456789"
        #expect(HMAC.constantTimeEqual(secret, secret))
        #expect(!HMAC.constantTimeEqual("s3cret-token-012345678X", secret))  // the last byte differs
        #expect(!HMAC.constantTimeEqual("X3cret-token-0123456789", secret))  // the first byte differs
        #expect(!HMAC.constantTimeEqual("s3cret-token", secret))  // a prefix
        #expect(!HMAC.constantTimeEqual(secret + secret, secret))  // the secret twice over: longer
        #expect(!HMAC.constantTimeEqual("", secret))
        #expect(!HMAC.constantTimeEqual(secret, ""))
        #expect(HMAC.constantTimeEqual("", ""))
        #expect(HMAC.constantTimeEqual("sha256=ä", "sha256=ä"))  // UTF-8 bytes, not characters
    }
}

/// `X-Imagebump-Signature: t=UNIX,v1=HEX` binds method, path and time: a captured request is no
/// use at another route or more than five minutes later.
@Suite struct StampedSignatureTests {
    static let secret = "generic-secret-0123456789abcdef"
    static let body = Array(#"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#.utf8)

    /// What `openssl dgst -sha256 -hmac SECRET` prints for `t.METHOD.PATH.body`.
    static func header(_ time: Int, method: String = "POST", path: String = "/v1/events", body: [UInt8] = body) -> String {
        let mac = HMAC.hex(HMAC.sha256(key: Array(secret.utf8), data: Array("\(time).\(method).\(path).".utf8) + body))
        return "t=\(time),v1=\(mac)"
    }

    func verify(_ header: String, method: String = "POST", path: String = "/v1/events", now: Int) -> Bool {
        ReceiverAuthentication.verify(
            .generic, secret: .init(value: Self.secret), headers: ["x-imagebump-signature": header], body: Self.body, pathToken: nil,
            method: method, path: path, now: Double(now))
    }

    @Test func aFreshSignatureForThisRouteIsAccepted() {
        let now = 1_767_225_600
        #expect(verify(Self.header(now), now: now))
        #expect(verify(Self.header(now - 299), now: now))
        #expect(verify(Self.header(now + 299), now: now))
    }

    @Test func anotherRouteAnotherMethodOrAnOldTimeIsRefused() {
        let now = 1_767_225_600
        #expect(!verify(Self.header(now), path: "/v1/promotions/p-1/approve", now: now))
        #expect(!verify(Self.header(now), method: "PUT", now: now))
        #expect(!verify(Self.header(now - 301), now: now))
        #expect(!verify(Self.header(now, body: Array("{}".utf8)), now: now))
        #expect(!verify("t=\(now)", now: now))
        #expect(!verify("v1=00", now: now))
        #expect(!verify("t=abc,v1=00", now: now))
    }

    @Test func theOpensslRecipeInTheReadmeMakesTheSameSignature() throws {
        let now = 1_767_225_600
        let input = try TemporaryDirectory.make("imagebump-sign").appendingPathComponent("signed")
        try Data(Array("\(now).POST./v1/events.".utf8) + Self.body).write(to: input)
        let printed = try Command.succeed("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", Self.secret, "-r", input.path])
        let hex = String(printed.prefix { $0 != " " })
        #expect(verify("t=\(now),v1=\(hex)", now: now))
    }
}
