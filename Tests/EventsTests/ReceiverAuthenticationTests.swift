import Crypto
import Events
import Foundation
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
