import CLinux
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
    /// Event loops (threads reading and writing sockets); 0 means one per core.
    public var eventLoops = 0

    public init() {}
}

/// Answers one request.
public typealias HTTPHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

/// Answers a request at once on the event loop, or returns nil to pass it to the async
/// handler. Only for cheap work that never blocks (`GET /healthz`).
public typealias ImmediateHandler = @Sendable (HTTPServerRequest) -> HTTPServerResponse?

/// Takes a request to answer later through `respond` (exactly once, from any thread), without
/// a task; returns false to pass it to the async handler. For answers that wait on work with a
/// completion of its own (a journal write), so no thread waits and no task is scheduled.
public typealias DeferredHandler = @Sendable (HTTPServerRequest, _ respond: @escaping @Sendable (HTTPServerResponse) -> Void) -> Bool

/// imagebump's HTTP/1.1 server over POSIX sockets: epoll event loops (one per core by
/// default) that accept, read, parse and write without blocking; async handlers run on a
/// small executor of their own. `TCP_NODELAY`, one write per response, keep-alive and
/// pipelining, `Expect: 100-continue`, and graceful shutdown (stop accepting, finish what is in
/// flight, close idle connections).
public final class HTTPServer: Sendable {
    public let port: Int
    private let context: ServerContext
    private let loops: [EventLoop]
    private let logger: Logger

    /// Binds and listens; call ``start()`` to accept.
    public init(
        settings: HTTPServerSettings, logger: Logger = Logger(label: "imagebump.http", factory: { _ in SwiftLogNoOpLogHandler() }), immediate: ImmediateHandler? = nil,
        deferred: DeferredHandler? = nil, handler: @escaping HTTPHandler
    ) throws(HTTPServerError) {
        self.logger = logger
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw HTTPServerError.system(.resources, "socket") }
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(settings.port).bigEndian
        guard inet_pton(AF_INET, settings.host, &address.sin_addr) == 1 else {
            close(socket)
            throw HTTPServerError(code: .address, operation: settings.host, errno: nil)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && listen(socket, 1024) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else {
            let error = HTTPServerError.system(.bind, "bind \(settings.host):\(settings.port)")
            close(socket)
            throw error
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let cores = ProcessInfo.processInfo.activeProcessorCount
        context = ServerContext(
            listener: socket, settings: settings, immediate: immediate, deferred: deferred, handler: handler,
            executor: HandlerExecutor(threads: max(2, cores)), logger: logger)
        var loops: [EventLoop] = []
        for _ in 0..<(settings.eventLoops > 0 ? settings.eventLoops : max(1, cores)) {
            do { loops.append(try EventLoop(server: context)) } catch {
                close(socket)
                throw error
            }
        }
        self.loops = loops
    }

    /// Starts the event loops.
    public func start() {
        for loop in loops {
            Thread.detachNewThread {
                Thread.current.name = "http-loop"
                loop.run()
            }
        }
    }

    /// Connections being served now.
    public var activeConnections: Int { context.active.load(ordering: .relaxed) }

    /// Whether ``shutdown(within:)`` has begun: no new connection is taken, answers close theirs.
    public var isStopping: Bool { context.stopping.load(ordering: .relaxed) }

    /// Stops accepting, lets requests in flight finish (idle connections close), and returns
    /// when all are done or `within` has passed.
    public func shutdown(within: Duration = .seconds(10)) {
        guard !context.stopping.exchange(true, ordering: .relaxed) else { return }
        for loop in loops { loop.poke() }
        let deadline = ContinuousClock.now + within
        while loops.contains(where: { !$0.finished.load(ordering: .acquiring) }), ContinuousClock.now < deadline { usleep(5_000) }
        close(context.listener)
        logger.notice("http server stopped", metadata: ["connections.left": "\(context.active.load(ordering: .relaxed))"])
    }
}

/// A server set-up failure: what failed (a code to match), the call or address, and the
/// system's `errno` when a system call failed.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The listen address is not an IPv4 address.
        case address
        /// The port cannot be bound or listened on (in use, not allowed).
        case bind
        /// A socket, epoll or eventfd could not be made (descriptors or memory exhausted).
        case resources
    }

    public let code: Code
    /// The call or the address, e.g. `bind 0.0.0.0:8080`.
    public let operation: String
    /// The system's error number, when a system call failed.
    public let errno: Int32?

    public var description: String {
        switch code {
        case .address: "the listen address \(operation) is not an IPv4 address"
        case .bind, .resources: "\(operation): \(errno.map { String(cString: strerror($0)) } ?? "failed")"
        }
    }

    static func system(_ code: Code, _ operation: String) -> HTTPServerError {
        HTTPServerError(code: code, operation: operation, errno: Glibc.errno)
    }
}
