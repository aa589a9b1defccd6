/// An HTTP request as imagebump sends it to forges and registries.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header names as given; values are sent as-is.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Safe to send again after a failure: the methods HTTP defines as idempotent.
    public var isReplayable: Bool { ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(method) }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }
}

/// A response: status, headers (names lowercased) and the body.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The last value of a header (names compare case-insensitively).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name == lower }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no response. Messages never carry credentials.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case timeout
        case unreachable
        case tls
        case responseTooLarge
        case unsupportedURL
        case rateLimited
        case other
    }

    public let code: Code
    /// Method and URL, with any user information removed.
    public let request: String
    public let message: String

    public init(_ code: Code, request: String, message: String) {
        self.code = code
        self.request = request
        self.message = message
    }

    public var description: String { "\(request): \(message)" }
}

/// Anything that sends a request and returns the response: libcurl, or a layer around it.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse
}
