import Foundation
import Synchronization

/// A token service (the registry's `auth.token` realm) as Docker Hub, GHCR or Harbor run one:
/// `GET /token?service=…&scope=repository:NAME:ACTIONS` with basic credentials answers a JWT
/// (RS256, the signing certificate in `x5c`) granting the scope's actions, which the real
/// registry checks against `certificate`. Wrong credentials: 401. Counts what it issued.
public final class RegistryTokenService: Sendable {
    public let user: String
    public let password: String
    public let service = "imagebump-test-registry"
    public let issuer = "imagebump-test-issuer"
    /// The signing certificate (PEM): the registry's `rootcertbundle`.
    public let certificate: String
    private let key: String
    private let chain: String
    private let double: HTTPDouble
    private let issued = Mutex<[String]>([])

    public var realm: String { "\(double.url)/token" }
    /// The scopes of every token issued, in order.
    public var tokens: [String] { issued.withLock { $0 } }
    /// Every request the realm received.
    public var requests: [RecordedRequest] { double.requests }

    public init(user: String, password: String) throws {
        let directory = try TemporaryDirectory.make("imagebump-token-service").path
        try Command.succeed(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=imagebump test token issuer", "-keyout",
                "\(directory)/issuer.key", "-out", "\(directory)/issuer.pem",
            ])
        certificate = "\(directory)/issuer.pem"
        key = "\(directory)/issuer.key"
        let der = try Command.succeed("/usr/bin/env", ["sh", "-c", "openssl x509 -in \(directory)/issuer.pem -outform DER | base64 -w0"])
        chain = der.trimmingCharacters(in: .whitespacesAndNewlines)
        self.user = user
        self.password = password
        let box = Mutex<RegistryTokenService?>(nil)
        double = try HTTPDouble { request in box.withLock { $0 }?.answer(request) ?? DoubleResponse(status: 503) }
        box.withLock { $0 = self }
    }

    func answer(_ request: RecordedRequest) -> DoubleResponse {
        let expected = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        guard request.headers["authorization"] == expected else {
            return .json(401, ["errors": [["code": "UNAUTHORIZED", "message": "wrong credentials"]]])
        }
        // Every `scope` parameter (a push asks for several).
        let scopes = (URLComponents(string: "http://x\(request.target)")?.queryItems ?? []).filter { $0.name == "scope" }.compactMap(\.value)
        let access: [[String: Any]] = scopes.compactMap { scope in
            let parts = scope.split(separator: ":")
            guard parts.count == 3 else { return nil }
            return ["type": String(parts[0]), "name": String(parts[1]), "actions": parts[2].split(separator: ",").map(String.init)]
        }
        let now = Int(Date().timeIntervalSince1970)
        let claims: [String: Any] = [
            "iss": issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10, "iat": now, "jti": UUID().uuidString,
            "access": access,
        ]
        guard let token = try? sign(claims) else { return DoubleResponse(status: 500) }
        issued.withLock { $0.append(scopes.joined(separator: " ")) }
        return .json(200, ["token": token, "expires_in": 300])
    }

    private func sign(_ claims: [String: Any]) throws -> String {
        func encode(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = try JSONSerialization.data(withJSONObject: ["alg": "RS256", "typ": "JWT", "x5c": [chain]])
        let payload = try JSONSerialization.data(withJSONObject: claims)
        let input = "\(encode(header)).\(encode(payload))"
        let directory = try TemporaryDirectory.make("imagebump-jwt").path
        try Data(input.utf8).write(to: URL(fileURLWithPath: "\(directory)/input"))
        try Command.succeed("/usr/bin/openssl", ["dgst", "-sha256", "-sign", key, "-out", "\(directory)/signature", "\(directory)/input"])
        let signature = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/signature"))
        return "\(input).\(encode(signature))"
    }
}
