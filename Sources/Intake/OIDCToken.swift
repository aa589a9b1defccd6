import Events
import Crypto
import Foundation

/// What a Pub/Sub push subscription's OIDC token must say for a `gcr` receiver.
public struct OIDCSettings: Sendable, Hashable {
    /// The `aud` the subscription was configured with (often the push endpoint's URL).
    public var audience: String
    /// The service account the subscription signs as (`email`, verified); nil accepts any.
    public var serviceAccount: String?
    public var issuers: [String]
    /// Where the issuer publishes its signing keys (JWKS).
    public var jwksURL: String

    public init(
        audience: String, serviceAccount: String?, issuers: [String] = ["https://accounts.google.com", "accounts.google.com"],
        jwksURL: String = "https://www.googleapis.com/oauth2/v3/certs"
    ) {
        self.audience = audience
        self.serviceAccount = serviceAccount
        self.issuers = issuers
        self.jwksURL = jwksURL
    }
}

/// Checks a Google-signed OIDC token (a JWT, `RS256`): its signature against the issuer's keys
/// by `kid`, then issuer, audience, expiry and the service account's verified email. Pure:
/// the keys come from the caller (``JWKS``).
public enum OIDCToken {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String)
        case unknownKey(String)
        case badSignature
        case claims(String)

        public var description: String {
            switch self {
            case .malformed(let why): "the token is not a JWT: \(why)"
            case .unknownKey(let kid): "the token's key \(kid) is not among the issuer's keys"
            case .badSignature: "the token's signature does not verify"
            case .claims(let why): "the token's claims do not match: \(why)"
            }
        }
    }

    /// Seconds of clock difference tolerated on `exp` and `iat`.
    public static let skew: Double = 60

    public static func verify(_ token: String, keys: [String: RSAVerifier], settings: OIDCSettings, now: Double) -> Result<Void, Failure>
    {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = base64URL(parts[0]), let payloadBytes = base64URL(parts[1]),
            let signature = base64URL(parts[2])
        else { return .failure(.malformed("three base64url parts expected")) }
        guard let header = (try? JSONReader.value(headerBytes)) as? [String: Any],
            let payload = (try? JSONReader.value(payloadBytes)) as? [String: Any]
        else { return .failure(.malformed("header and payload must be JSON objects")) }
        guard header["alg"] as? String == "RS256" else { return .failure(.malformed("alg must be RS256")) }
        guard let kid = header["kid"] as? String else { return .failure(.malformed("kid is missing")) }
        guard let key = keys[kid] else { return .failure(.unknownKey(kid)) }
        guard key.verifySHA256(Array("\(parts[0]).\(parts[1])".utf8), signature: signature) else { return .failure(.badSignature) }
        guard let issuer = payload["iss"] as? String, settings.issuers.contains(issuer) else {
            return .failure(.claims("iss is not \(settings.issuers.joined(separator: " or "))"))
        }
        let audiences = (payload["aud"] as? String).map { [$0] } ?? (payload["aud"] as? [Any])?.compactMap { $0 as? String } ?? []
        guard audiences.contains(settings.audience) else { return .failure(.claims("aud is not \(settings.audience)")) }
        guard let expires = number(payload["exp"]), expires + skew > now else { return .failure(.claims("the token expired")) }
        if let issued = number(payload["iat"]), issued - skew > now { return .failure(.claims("the token is issued in the future")) }
        if let account = settings.serviceAccount {
            guard payload["email"] as? String == account, payload["email_verified"] as? Bool == true else {
                return .failure(.claims("email is not the verified \(account)"))
            }
        }
        return .success(())
    }

    static func number(_ value: Any?) -> Double? {
        switch value {
        case let integer as Int: Double(integer)
        case let double as Double: double
        default: nil
        }
    }

    /// base64url without padding, as JWTs and JWKs write it.
    public static func base64URL(_ text: some StringProtocol) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
