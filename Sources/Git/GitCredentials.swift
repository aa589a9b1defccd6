/// How to authenticate to a remote and which servers to trust. Prints without its secrets.
public struct GitCredentials: Sendable, CustomStringConvertible {
    /// What to answer when the server asks who we are.
    public enum Method: Sendable {
        case none
        /// HTTPS basic authentication: a user name and a password or token.
        case userPassword(user: String, password: String)
        /// SSH public-key authentication with a private key held in memory.
        case sshKey(user: String, privateKey: String, passphrase: String?)
    }

    public var method: Method
    /// OpenSSH `known_hosts` text; SSH hosts not listed are refused unless accepted below.
    public var knownHosts: String
    public var acceptUnknownHostKeys: Bool

    public init(method: Method = .none, knownHosts: String = "", acceptUnknownHostKeys: Bool = false) {
        self.method = method
        self.knownHosts = knownHosts
        self.acceptUnknownHostKeys = acceptUnknownHostKeys
    }

    public var description: String {
        switch method {
        case .none: "no credentials"
        case .userPassword(let user, _): "user \(user) with a password [REDACTED]"
        case .sshKey(let user, _, _): "SSH user \(user) with a private key [REDACTED]"
        }
    }

    /// The secret strings, so that callers can redact them from anything they print.
    public var secrets: [String] {
        switch method {
        case .none: []
        case .userPassword(_, let password): [password]
        case .sshKey(_, let key, let passphrase): [key] + (passphrase.map { [$0] } ?? [])
        }
    }
}
