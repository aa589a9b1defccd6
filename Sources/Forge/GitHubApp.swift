import Crypto
import Foundation
import HTTPClient

/// A GitHub App installation: the app's id, the installation's id, and its private key.
public struct GitHubAppCredentials: Sendable, CustomStringConvertible {
    public let appID: String
    public let installationID: String
    /// PEM; prints as `[REDACTED]`.
    public let privateKey: String

    public init(appID: String, installationID: String, privateKey: String) {
        self.appID = appID
        self.installationID = installationID
        self.privateKey = privateKey
    }

    public var description: String { "GitHub App \(appID), installation \(installationID), private key [REDACTED]" }
}

/// The app's JSON Web Token: RS256 over `{"iat","exp","iss"}`, valid for 9 minutes and
/// back-dated a minute for clock drift, as GitHub asks.
public enum GitHubAppJWT {
    public static func make(appID: String, privateKey: String, now: Date) throws(CryptoError) -> String {
        let issued = Int(now.timeIntervalSince1970) - 60
        let header = base64URL(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
        let claims = base64URL(Array(#"{"iat":\#(issued),"exp":\#(issued + 600),"iss":"\#(appID)"}"#.utf8))
        let signingInput = "\(header).\(claims)"
        let signature = try RSASigner(pem: privateKey).signSHA256(Array(signingInput.utf8))
        return "\(signingInput).\(base64URL(signature))"
    }

    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Installation tokens for one app installation: fetched with a fresh JWT, kept until five
/// minutes before they expire, then fetched again.
public actor GitHubAppTokens {
    let credentials: GitHubAppCredentials
    let http: ForgeHTTP
    let now: @Sendable () -> Date
    private var cached: (token: String, expires: Date)?

    public init(
        credentials: GitHubAppCredentials, transport: any HTTPTransport, apiBaseURL: String = "https://api.github.com",
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.credentials = credentials
        self.http = ForgeHTTP(transport: transport, baseURL: apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL)
        self.now = now
    }

    public func token() async throws(ForgeError) -> String {
        if let cached, cached.expires.timeIntervalSince(now()) > 300 { return cached.token }
        let jwt: String
        do { jwt = try GitHubAppJWT.make(appID: credentials.appID, privateKey: credentials.privateKey, now: now()) } catch {
            throw ForgeError(.unauthorized, operation: "sign the GitHub App JWT", status: nil, message: error.description)
        }
        let signed = ForgeHTTP(
            transport: AuthorizingTransport(
                http.transport, headers: [("Authorization", "Bearer \(jwt)"), ("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]),
            baseURL: http.baseURL)
        let answer = try await signed.object(
            "get an installation token", "POST", "/app/installations/\(credentials.installationID)/access_tokens")
        guard let token = answer["token"] as? String,
            let expiry = (answer["expires_at"] as? String).flatMap({ ISO8601DateFormatter().date(from: $0) })
        else {
            throw ForgeError(
                .unexpected, operation: "get an installation token", status: 201, message: "the answer has no token or expires_at")
        }
        cached = (token, expiry)
        return token
    }
}

/// Sends every request with the installation's current token.
public struct GitHubAppTransport: HTTPTransport {
    let inner: any HTTPTransport
    let tokens: GitHubAppTokens

    public init(_ inner: any HTTPTransport, tokens: GitHubAppTokens) {
        self.inner = inner
        self.tokens = tokens
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let token: String
        do { token = try await tokens.token() } catch {
            throw HTTPClientError(.other, request: "\(request.method) \(request.url)", message: error.description)
        }
        var request = request
        request.setHeader("Authorization", "Bearer \(token)")
        return try await inner.send(request)
    }
}
