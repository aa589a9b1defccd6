import Crypto
import Events
import Foundation
import HTTPClient
import Logging
import Synchronization

/// A `gcr` receiver's OIDC check: the issuer's signing keys (JWKS), fetched with libcurl, kept
/// and refreshed every hour — and at once when a token names a key not seen yet (a key
/// rotation), at most every 30 s — plus the claims the token must carry (``OIDCSettings``).
/// Verifying is synchronous on the cached keys: a token signed by a key not fetched yet is
/// refused (`401`), and Pub/Sub delivers it again after the refresh.
public final class JWKS: Sendable {
    public let settings: OIDCSettings
    let transport: any HTTPTransport
    let logger: Logger
    private let state = Mutex<(keys: [String: RSAVerifier], fetched: ContinuousClock.Instant?, refreshing: Bool)>(([:], nil, false))

    public init(settings: OIDCSettings, transport: any HTTPTransport = CurlClient(), logger: Logger = Logger(label: "imagebump.oidc", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.settings = settings
        self.transport = transport
        self.logger = logger
    }

    /// Whether `authorization` (`Bearer <JWT>`) is a valid token for this receiver now.
    public func verify(authorization: String?, now: Double = Date().timeIntervalSince1970) -> Result<Void, OIDCToken.Failure> {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return .failure(.malformed("no Bearer token")) }
        let (keys, stale) = state.withLock { state in
            (state.keys, state.fetched.map { ContinuousClock.now - $0 > .seconds(3600) } ?? true)
        }
        let result = OIDCToken.verify(String(authorization.dropFirst(7)), keys: keys, settings: settings, now: now)
        if case .failure(.unknownKey) = result { refreshSoon(minimumAge: .seconds(30)) } else if stale { refreshSoon(minimumAge: .seconds(3600)) }
        return result
    }

    /// Fetches the keys now (at start, and from ``refreshSoon(minimumAge:)``).
    public func refresh() async {
        do {
            let response = try await transport.send(HTTPRequest(method: "GET", url: settings.jwksURL))
            guard response.status == 200, let object = (try? JSONReader.value(response.body)) as? [String: Any],
                let list = object["keys"] as? [Any]
            else {
                logger.warning("cannot read the OIDC signing keys", metadata: ["url": "\(settings.jwksURL)", "status": "\(response.status)"])
                state.withLock { $0.refreshing = false }
                return
            }
            var keys: [String: RSAVerifier] = [:]
            for case let key as [String: Any] in list where key["kty"] as? String == "RSA" {
                guard let kid = key["kid"] as? String, let n = (key["n"] as? String).flatMap(OIDCToken.base64URL),
                    let e = (key["e"] as? String).flatMap(OIDCToken.base64URL), let verifier = try? RSAVerifier(modulus: n, exponent: e)
                else { continue }
                keys[kid] = verifier
            }
            state.withLock { $0 = (keys, ContinuousClock.now, false) }
            logger.info("OIDC signing keys fetched", metadata: ["url": "\(settings.jwksURL)", "keys": .stringConvertible(keys.count)])
        } catch {
            logger.warning("cannot fetch the OIDC signing keys", metadata: ["url": "\(settings.jwksURL)", "error": "\(error)"])
            state.withLock { $0.refreshing = false }
        }
    }

    /// Starts a refresh unless one runs or the keys are younger than `minimumAge`.
    func refreshSoon(minimumAge: Duration) {
        let start = state.withLock { state -> Bool in
            guard !state.refreshing else { return false }
            if let fetched = state.fetched, ContinuousClock.now - fetched < minimumAge { return false }
            state.refreshing = true
            return true
        }
        if start { Task { await refresh() } }
    }
}
