import HTTPClient

/// Why a registry could not be read. Messages name the registry and the repository, never a
/// credential or a token.
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The registry (or its token service) refused the credentials, or there were none.
        case unauthorized
        /// The repository does not exist, or the credentials may not see it.
        case notFound
        /// The registry asks to wait longer than imagebump waits in one round.
        case rateLimited
        /// No answer: connection, TLS, timeout.
        case unreachable
        /// An answer that is not what the Distribution API defines.
        case unexpectedResponse
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: HTTPClientError) {
        self.init(error.code == .rateLimited ? .rateLimited : .unreachable, error.description)
    }

    public var description: String { message }
}
