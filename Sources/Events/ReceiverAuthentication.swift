import Crypto

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
    public static func verify(_ type: ReceiverType, secret: Secret, headers: [String: String], body: [UInt8], pathToken: String?) -> Bool {
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
            if let signature = header("X-Signature") { return HMAC.constantTimeEqual(signature, "sha256=\(sha256)") }
            guard let authorization = header("Authorization"), authorization.hasPrefix("Bearer ") else { return false }
            return HMAC.constantTimeEqual(String(authorization.dropFirst(7)), secret.value)
        }
    }

    /// Senders that cannot sign or send a secret header: their receiver URL carries a random
    /// token of at least 32 bytes instead.
    public static func usesPathToken(_ type: ReceiverType) -> Bool { type == .dockerhub || type == .quay }
}
