import Events
import Crypto
import Foundation

/// How a sender proves a delivery is its own, and the check for it. Every comparison is
/// constant-time (``HMAC/constantTimeEqual(_:_:)-(String,String)``).
public enum ReceiverAuthentication {
    /// What the receiver was configured with.
    public struct Secret: Sendable {
        /// The shared secret, token or expected header value.
        public let value: String
        /// For header-secret senders (ACR, ECR): the header carrying it; default Authorization.
        public let header: String?

        public init(value: String, header: String? = nil) {
            self.value = value
            self.header = header
        }
    }

    /// Whether the request is the configured sender's. `pathToken` is the token taken from the
    /// receiver's URL (for senders that cannot sign: Docker Hub, Quay).
    /// For the generic receiver, `method` and `path` are what `X-Imagebump-Signature` binds
    /// (with its time, checked against `now`).
    public static func verify(
        _ type: ReceiverType, secret: Secret, headers: [String: String], body: [UInt8], pathToken: String?, method: String = "POST",
        path: String = "/v1/events", now: Double = Date().timeIntervalSince1970
    ) -> Bool {
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        func equals(_ candidate: String?) -> Bool { candidate.map { HMAC.constantTimeEqual($0, secret.value) } ?? false }
        func bearerOrPlain(_ candidate: String?) -> Bool {
            guard let candidate else { return false }
            let token = candidate.hasPrefix("Bearer ") ? String(candidate.dropFirst(7)) : candidate
            return HMAC.constantTimeEqual(token, secret.value)
        }
        // Computed only for the senders that sign the body.
        var sha256: String { HMAC.hex(HMAC.sha256(key: Array(secret.value.utf8), data: body)) }
        switch type {
        case .dockerhub, .quay:
            return equals(pathToken)
        case .harbor:
            return equals(header("Authorization"))
        case .distribution, .gcr:
            return bearerOrPlain(header("Authorization"))
        case .gitlab:
            return header("X-Gitlab-Token").map { HMAC.constantTimeEqual($0, secret.value) } ?? bearerOrPlain(header("Authorization"))
        case .github:
            return header("X-Hub-Signature-256").map { HMAC.constantTimeEqual($0, "sha256=\(sha256)") } ?? false
        case .gitea:
            return (header("X-Gitea-Signature") ?? header("X-Forgejo-Signature")).map { HMAC.constantTimeEqual($0.lowercased(), sha256) }
                ?? false
        case .acr, .ecr:
            return bearerOrPlain(header(secret.header ?? "Authorization"))
        case .artifactory:
            // Either the secret passed through, or (with "use secret for signing") hex HMAC-SHA256.
            guard let value = header("X-JFrog-Event-Auth") else { return false }
            return HMAC.constantTimeEqual(value, secret.value) || HMAC.constantTimeEqual(value.lowercased(), sha256)
        case .nexus:
            let sha1 = HMAC.hex(HMAC.sha1(key: Array(secret.value.utf8), data: body))
            return header("X-Nexus-Webhook-Signature").map { HMAC.constantTimeEqual($0.lowercased(), sha1) } ?? false
        case .generic:
            if let stamped = header("X-Imagebump-Signature") {
                return verifyStamped(stamped, secret: secret.value, method: method, path: path, body: body, now: now)
            }
            if let signature = header("X-Signature") { return HMAC.constantTimeEqual(signature, "sha256=\(sha256)") }
            guard let authorization = header("Authorization"), authorization.hasPrefix("Bearer ") else { return false }
            return HMAC.constantTimeEqual(String(authorization.dropFirst(7)), secret.value)
        }
    }

    /// How far a signature's time may be from now, either way.
    public static let signatureTolerance: Double = 300

    /// `X-Imagebump-Signature: t=UNIX,v1=HEX`, HEX = HMAC-SHA256(secret, `t.METHOD.PATH.body`):
    /// the signature binds the method, the path and the time, so a captured request is no use
    /// at another route, nor more than five minutes later.
    static func verifyStamped(_ header: String, secret: String, method: String, path: String, body: [UInt8], now: Double) -> Bool {
        var time: String?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { time = pair[1] } else if pair[0] == "v1" { signatures.append(pair[1].lowercased()) }
        }
        guard let time, time.count <= 12, let seconds = Double(time), time.allSatisfy(\.isNumber), abs(now - seconds) <= signatureTolerance
        else { return false }
        let signed = Array("\(time).\(method).\(path).".utf8) + body
        let expected = HMAC.hex(HMAC.sha256(key: Array(secret.utf8), data: signed))
        var matched = false
        for signature in signatures where HMAC.constantTimeEqual(signature, expected) { matched = true }
        return matched
    }

    /// Senders that cannot sign or send a secret header: their receiver URL carries a random
    /// token of at least 32 bytes instead.
}
