import Configuration
import Foundation
import HTTPClient
import Synchronization

/// Docker Hub's `RateLimit-Remaining: 0;w=SECONDS`: past it, the registry is not asked again
/// until the window has passed (each request would only earn a 429).
final class RateLimitWindow: Sendable {
    private let closedUntil = Mutex<ContinuousClock.Instant?>(nil)

    /// The seconds left while the limit is used up, else nil.
    func remaining(now: ContinuousClock.Instant = .now) -> Int? {
        closedUntil.withLock { until in
            guard let end = until, end > now else { return nil }
            return Int((end - now).components.seconds) + 1
        }
    }

    /// Reads `RateLimit-Remaining` (`76;w=21600`); at 0 the window closes for `w` seconds
    /// (60 when unsaid, at most 6 hours).
    func note(_ header: String?, now: ContinuousClock.Instant = .now) {
        guard let header else { return }
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first == "0" else { return }
        let window = parts.dropFirst().first { $0.hasPrefix("w=") }.flatMap { Int($0.dropFirst(2)) } ?? 60
        closedUntil.withLock { $0 = now + .seconds(min(max(window, 1), 21_600)) }
    }
}

/// Tokens and basic credentials per repository scope, until they expire; bounded.
final class TokenCache: Sendable {
    /// Entries kept at most: past it, the expired ones go, then all.
    static let capacity = 10_000
    /// The key for a host's basic credentials (sent to every repository once a 401 asked).
    static let basicKey = "*basic"
    private let entries = Mutex<[String: (authorization: String, expires: ContinuousClock.Instant)]>([:])

    func authorization(_ scope: String, now: ContinuousClock.Instant = .now) -> String? {
        entries.withLock { entries in
            for key in [scope, Self.basicKey] {
                if let entry = entries[key], entry.expires > now { return entry.authorization }
            }
            return nil
        }
    }

    func store(_ scope: String, _ authorization: String, for lifetime: Duration, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= Self.capacity { entries.removeAll() }
            }
            entries[scope] = (authorization, now + lifetime)
        }
    }
}

extension RegistryClient {
    /// Sends a request to the registry, authenticated as the registry asks: a cached token or
    /// basic credentials first; on `401`, the challenge's flow, then once more.
    func send(_ method: String, _ path: String, repository: String, headers: [(name: String, value: String)]) async throws(RegistryError)
        -> HTTPResponse
    {
        let scope = "repository:\(repository):pull"
        var request = HTTPRequest(method: method, url: path.hasPrefix("http") ? path : base + path, headers: headers)
        if let authorization = tokens.authorization(scope) { request.setHeader("Authorization", authorization) }
        let response = try await exchange(request)
        guard response.status == 401, let header = response.header("www-authenticate"), let challenge = AuthenticationChallenge(header) else {
            return response
        }
        switch challenge.scheme {
        case "bearer":
            let (token, lifetime) = try await token(challenge, scope: scope, repository: repository)
            tokens.store(scope, "Bearer \(token)", for: lifetime)
            request.setHeader("Authorization", "Bearer \(token)")
        case "basic":
            guard let basic = try basicAuthorization() else { return response }
            tokens.store(TokenCache.basicKey, basic, for: .seconds(300))  // re-read then: a rotated password is picked up
            request.setHeader("Authorization", basic)
        default:
            return response
        }
        return try await exchange(request)
    }

    /// One exchange, counted by host and status.
    func exchange(_ request: HTTPRequest) async throws(RegistryError) -> HTTPResponse {
        if let seconds = rateLimit.remaining() {
            throw RegistryError(
                .rateLimited, "\(settings.host): the registry's rate limit is used up (RateLimit-Remaining: 0); reads resume in \(seconds) s")
        }
        do {
            let response = try await MeasuringTransport(transport, observe: observe).send(request)
            rateLimit.note(response.header("ratelimit-remaining"))
            return response
        } catch {
            throw RegistryError(error)
        }
    }

    /// `Basic base64(user:password)`, the password read now (a rotated file is picked up); nil
    /// without credentials.
    func basicAuthorization() throws(RegistryError) -> String? {
        guard let username = settings.username, let reference = settings.password else { return nil }
        do {
            let password = try reference.resolve().revealed
            return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        } catch {
            throw RegistryError(.unauthorized, "registries[\(settings.host)].password: \(error.reason)")
        }
    }

    /// A token from the challenge's realm for `scope`, with basic credentials when configured,
    /// and how long it may be kept (`expires_in`, at least 60 s as the token specification
    /// says, less a margin).
    func token(_ challenge: AuthenticationChallenge, scope: String, repository: String) async throws(RegistryError) -> (String, Duration) {
        let name = "\(settings.host)/\(repository)"
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
            components.scheme == "https" || (components.scheme == "http" && settings.insecure)
        else {
            throw RegistryError(
                .unexpectedResponse,
                "\(name): the registry asks for a token from \"\(challenge.parameters["realm"] ?? "")\", which is not an https URL (credentials are never sent over plain HTTP unless the registry is insecure: true)"
            )
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: scope))
        components.queryItems = query
        var request = HTTPRequest(method: "GET", url: components.string ?? realm, headers: [("Accept", "application/json")])
        if let basic = try basicAuthorization() { request.setHeader("Authorization", basic) }
        let response = try await exchange(request)
        guard response.status == 200 else {
            if [401, 403].contains(response.status) {
                let credentials = settings.username == nil ? "no credentials are configured" : "it refused the credentials of registries[\(settings.host)]"
                throw RegistryError(.unauthorized, "\(name): the token service answered \(response.status) (\(credentials)); check registries[].username and password")
            }
            throw RegistryError(.unexpectedResponse, "\(name): the token service answered \(response.status)")
        }
        struct Answer: Decodable {
            let token: String?
            let access_token: String?
            let expires_in: Int?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)), let token = answer.token ?? answer.access_token,
            !token.isEmpty
        else {
            throw RegistryError(.unexpectedResponse, "\(name): the token service's answer holds no token")
        }
        let seconds = max(answer.expires_in ?? 60, 60)
        return (token, .seconds(seconds - min(10, seconds / 6)))
    }
}
