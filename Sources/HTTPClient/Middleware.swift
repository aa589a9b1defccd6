import Foundation
import Logging

/// Adds credentials and fixed headers to every request (the token stays inside this layer).
public struct AuthorizingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let headers: [(name: String, value: String)]

    public init(_ inner: any HTTPTransport, headers: [(name: String, value: String)]) {
        self.inner = inner
        self.headers = headers
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        var request = request
        for header in headers { request.setHeader(header.name, header.value) }
        return try await inner.send(request)
    }
}

/// When and how long to wait before trying again.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Duration
    /// A server asking for a longer wait than this gets an error instead of a wait.
    public var maximumDelay: Duration
    public var sleep: @Sendable (Duration) async -> Void
    public var now: @Sendable () -> Date

    public init(
        attempts: Int = 4, baseDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(60),
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.sleep = sleep
        self.now = now
    }
}

/// Retries what a server did not process: 429 and rate-limit 403s for any request, 5xx and
/// transport failures only for replayable ones. Waits as the server says (`Retry-After`,
/// `X-RateLimit-Reset`/`RateLimit-Reset` when the remaining count is 0), else exponential
/// backoff with jitter.
public struct RetryingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let policy: RetryPolicy
    let logger: Logger

    public init(_ inner: any HTTPTransport, policy: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "imagebump.http", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.inner = inner
        self.policy = policy
        self.logger = logger
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPResponse
            do {
                response = try await inner.send(request)
            } catch {
                let delay = backoff(attempt)
                guard request.isReplayable, attempt < policy.attempts, [.timeout, .unreachable, .other].contains(error.code),
                    RetryBudget.allows(delay)
                else {
                    throw error
                }
                await wait(delay, request, reason: error.code.rawValue)
                continue
            }
            guard attempt < policy.attempts, Self.isRetryable(response, request) else { return response }
            let delay = serverDelay(response) ?? backoff(attempt)
            guard RetryBudget.allows(delay) else { return response }  // the caller's budget is spent: its answer stands
            guard delay <= policy.maximumDelay else {
                throw HTTPClientError(
                    .rateLimited, request: "\(request.method) \(CurlClient.redacted(request.url))",
                    message: "the server asks to wait \(delay.components.seconds) s (status \(response.status)); try again later")
            }
            await wait(delay, request, reason: "status \(response.status)")
        }
    }

    static func isRetryable(_ response: HTTPResponse, _ request: HTTPRequest) -> Bool {
        switch response.status {
        case 429: return true
        case 403:
            return response.header("x-ratelimit-remaining") == "0" || response.header("retry-after") != nil
                || response.bodyText.lowercased().contains("secondary rate limit")
        case 500, 502, 503, 504: return request.isReplayable
        default: return false
        }
    }

    func serverDelay(_ response: HTTPResponse) -> Duration? {
        if let retryAfter = response.header("retry-after") {
            if let seconds = Int(retryAfter.trimmingCharacters(in: .whitespaces)) { return .seconds(max(0, seconds)) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: retryAfter) {
                return .seconds(max(0, Int(date.timeIntervalSince(policy.now()).rounded(.up))))
            }
        }
        // GitHub's secondary rate limit without retry-after: "wait at least one minute" (its docs).
        if response.status == 403, response.bodyText.lowercased().contains("secondary rate limit") { return .seconds(60) }
        let remaining = response.header("x-ratelimit-remaining") ?? response.header("ratelimit-remaining")
        if remaining == "0", let reset = (response.header("x-ratelimit-reset") ?? response.header("ratelimit-reset")).flatMap(Double.init) {
            return .seconds(max(0, Int((reset - policy.now().timeIntervalSince1970).rounded(.up))))
        }
        return nil
    }

    func backoff(_ attempt: Int) -> Duration {
        let base = policy.baseDelay * Int(1 << min(attempt - 1, 10))
        return base + policy.baseDelay * Double.random(in: 0..<1)
    }

    private func wait(_ delay: Duration, _ request: HTTPRequest, reason: String) async {
        logger.debug(
            "retrying",
            metadata: [
                "http.method": "\(request.method)", "http.url": "\(CurlClient.redacted(request.url))", "reason": "\(reason)",
                "delay": "\(delay)",
            ])
        await policy.sleep(delay)
    }
}

/// Logs every exchange at debug level: method, URL without credentials, status, duration.
/// Headers are never logged, so tokens cannot leak here.
public struct LoggingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let logger: Logger

    public init(_ inner: any HTTPTransport, logger: Logger) {
        self.inner = inner
        self.logger = logger
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let start = ContinuousClock.now
        do {
            let response = try await inner.send(request)
            logger.debug(
                "http",
                metadata: [
                    "http.method": "\(request.method)", "http.url": "\(CurlClient.redacted(request.url))",
                    "http.status": "\(response.status)", "duration": "\(ContinuousClock.now - start)",
                ])
            return response
        } catch {
            logger.debug(
                "http failed",
                metadata: ["http.method": "\(request.method)", "http.url": "\(CurlClient.redacted(request.url))", "error": "\(error)"])
            throw error
        }
    }
}

/// Tells `observe` of every exchange: the host (with its port), the status (or the failure's
/// code) and how long it took — what the metrics count per forge and registry host.
public struct MeasuringTransport: HTTPTransport {
    public typealias Observer = @Sendable (_ host: String, _ status: String, _ duration: Duration) -> Void
    let inner: any HTTPTransport
    let observe: Observer

    public init(_ inner: any HTTPTransport, observe: @escaping Observer) {
        self.inner = inner
        self.observe = observe
    }

    /// `host:port` of a URL (the host alone without a port).
    public static func host(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return "unknown" }
        return host + (components.port.map { ":\($0)" } ?? "")
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let start = ContinuousClock.now
        do {
            let response = try await inner.send(request)
            observe(Self.host(request.url), "\(response.status)", ContinuousClock.now - start)
            return response
        } catch {
            observe(Self.host(request.url), error.code.rawValue, ContinuousClock.now - start)
            throw error
        }
    }
}
