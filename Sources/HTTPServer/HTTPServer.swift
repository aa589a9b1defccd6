import Dispatch
import Foundation
import Logging
import Synchronization

/// Where and how the server listens, and its limits against slow or greedy clients.
public struct HTTPServerSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8080
    public var limits = HTTPLimits()
    /// Time to receive a whole request head (408 after it).
    public var headerTimeout: Duration = .seconds(10)
    /// Time to receive a body once its head arrived (408 after it).
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a kept-alive connection may sit idle.
    public var idleTimeout: Duration = .seconds(60)
    /// Connections served at once; more are answered 503 and closed.
    public var maximumConnections = 512

    public init() {}
}

/// Answers one request.
public typealias HTTPHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

/// imagebump's HTTP/1.1 server over POSIX sockets: one thread per connection (bounded by
/// `maximumConnections`), `TCP_NODELAY`, one write per response, keep-alive and pipelining,
/// `Expect: 100-continue`, and graceful shutdown (stop accepting, finish what is in flight).
public final class HTTPServer: Sendable {
    public let port: Int
    private let listener: Int32
    private let settings: HTTPServerSettings
    private let handler: HTTPHandler
    private let logger: Logger
    private let active = Atomic<Int>(0)
    private let executor = HandlerExecutor(threads: max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))
    private let stopping = Atomic<Bool>(false)

    /// Binds and listens; call ``start()`` to accept.
    public init(settings: HTTPServerSettings, logger: Logger = Logger(label: "imagebump.http"), handler: @escaping HTTPHandler)
        throws(HTTPServerError)
    {
        self.settings = settings
        self.handler = handler
        self.logger = logger
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw HTTPServerError.system("socket") }
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(settings.port).bigEndian
        guard inet_pton(AF_INET, settings.host, &address.sin_addr) == 1 else {
            close(socket)
            throw HTTPServerError(message: "the listen address \(settings.host) is not an IPv4 address")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && listen(socket, 1024) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else {
            let error = HTTPServerError.system("bind \(settings.host):\(settings.port)")
            close(socket)
            throw error
        }
        listener = socket
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts connections on a thread of its own until ``shutdown(within:)``.
    public func start() {
        Thread.detachNewThread { [self] in
            while !stopping.load(ordering: .relaxed) {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                var yes: Int32 = 1
                setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                if active.add(1, ordering: .relaxed).newValue > settings.maximumConnections {
                    let busy = HTTPServerResponse.error(
                        503, "busy", "more than \(settings.maximumConnections) connections are open; retry later")
                    Connection.write(connection, busy.serialized(keepAlive: false))
                    close(connection)
                    active.subtract(1, ordering: .relaxed)
                    continue
                }
                Thread.detachNewThread { [self] in
                    Connection(
                        socket: connection, settings: settings, handler: handler, executor: executor,
                        stopping: { self.stopping.load(ordering: .relaxed) }
                    ).serve()
                    close(connection)
                    active.subtract(1, ordering: .relaxed)
                }
            }
        }
    }

    /// Connections being served now.
    public var activeConnections: Int { active.load(ordering: .relaxed) }

    /// Stops accepting, lets requests in flight finish (idle connections close), and returns
    /// when all are done or `within` has passed.
    public func shutdown(within: Duration = .seconds(10)) {
        stopping.store(true, ordering: .relaxed)
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        let deadline = ContinuousClock.now + within
        while active.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline { usleep(10_000) }
        logger.notice("http server stopped", metadata: ["connections.left": "\(active.load(ordering: .relaxed))"])
    }
}

/// A server set-up failure with the system's reason.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    static func system(_ operation: String) -> HTTPServerError {
        HTTPServerError(message: "\(operation): \(String(cString: strerror(errno)))")
    }
}
