import CLinux
import Foundation
import Logging
import Synchronization

/// What every event loop of one server shares.
final class ServerContext: Sendable {
    let listener: Int32
    let settings: HTTPServerSettings
    let immediate: ImmediateHandler?
    let deferred: DeferredHandler?
    let handler: @Sendable (HTTPServerRequest) async -> HTTPServerResponse
    let executor: HandlerExecutor
    let active = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let logger: Logger

    init(
        listener: Int32, settings: HTTPServerSettings, immediate: ImmediateHandler?, deferred: DeferredHandler?,
        handler: @escaping @Sendable (HTTPServerRequest) async -> HTTPServerResponse, executor: HandlerExecutor,
        logger: Logger = Logger(label: "imagebump.http", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.logger = logger
        self.deferred = deferred
        self.listener = listener
        self.settings = settings
        self.immediate = immediate
        self.handler = handler
        self.executor = executor
    }
}

/// One epoll event loop on a thread of its own: accepts connections (the listening socket is
/// shared by every loop, `EPOLLEXCLUSIVE`), reads and parses without blocking, answers
/// immediate routes inline, offers the rest to the deferred handler and then to the async
/// handler; their answers come back through the loop's inbox (an `eventfd` wakes the loop). Writes are one `send` per response,
/// with the rest kept until the socket takes it. Deadlines are checked every 100 ms.
final class EventLoop: @unchecked Sendable {  // loop state is touched only by the loop's thread; other threads use `inbox` and `wake`
    private let server: ServerContext
    private let epoll: Int32
    private let wake: Int32
    private var connections: [Int32: LoopConnection] = [:]
    private let inbox = Mutex<[Completion]>([])
    private var nextSerial: UInt64 = 0
    /// Connections with pipelined requests left after their turn (at most `requestsPerTurn` each).
    private var ready: [LoopConnection] = []
    /// Requests one connection may have answered in a row before the others get a turn.
    static let requestsPerTurn = 64
    private var listening = true
    /// Out of descriptors (EMFILE/ENFILE): accepting pauses until then, backing off from 100 ms
    /// to 1 s, instead of waking on the pending connection again and again (both cores spun).
    private var acceptPausedUntil: ContinuousClock.Instant?
    private var acceptBackoff: Duration = .milliseconds(100)
    /// Set when the loop's thread has returned.
    let finished = Atomic<Bool>(false)

    /// An answer from the async handler, for the connection it was asked on.
    private struct Completion: Sendable {
        let socket: Int32
        let serial: UInt64
        let response: HTTPServerResponse
        let keepAlive: Bool
    }

    init(server: ServerContext) throws(HTTPServerError) {
        self.server = server
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw HTTPServerError.system(.resources, "epoll_create1") }
        wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            close(epoll)
            throw HTTPServerError.system(.resources, "eventfd")
        }
    }

    /// Runs until the server stops and the last connection is gone.
    func run() {
        register(server.listener, UInt32(EPOLLIN.rawValue) | UInt32(EPOLLEXCLUSIVE.rawValue), add: true)
        register(wake, UInt32(EPOLLIN.rawValue), add: true)
        var sockets = [Int32](repeating: 0, count: 256)
        var flagsOf = [UInt32](repeating: 0, count: 256)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var lastSweep = ContinuousClock.now
        while true {
            let count = imagebump_epoll_wait(epoll, &sockets, &flagsOf, 256, ready.isEmpty ? (acceptPausedUntil == nil ? 100 : 20) : 0)
            if count < 0, errno != EINTR { break }
            for index in 0..<max(0, Int(count)) {
                let socket = sockets[index]
                let flags = flagsOf[index]
                if socket == server.listener {
                    if listening { acceptAll() }
                } else if socket == wake {
                    var value: UInt64 = 0
                    _ = read(wake, &value, 8)
                    deliverCompletions()
                } else if let connection = connections[socket] {
                    if flags & UInt32(EPOLLOUT.rawValue) != 0 { flush(connection) }
                    if flags & (UInt32(EPOLLIN.rawValue) | UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLERR.rawValue)) != 0,
                        connections[socket] === connection
                    {
                        receive(connection, &buffer)
                    }
                }
            }
            // Connections that used up their turn with requests left: their next turn.
            let waiting = ready
            ready.removeAll(keepingCapacity: true)
            for connection in waiting where connections[connection.socket] === connection {
                connection.queued = false
                process(connection)
            }
            let now = ContinuousClock.now
            resumeAcceptingIfDue(now)
            if server.stopping.load(ordering: .relaxed) {
                if listening {
                    listening = false
                    if acceptPausedUntil == nil { imagebump_epoll_ctl(epoll, EPOLL_CTL_DEL, server.listener, 0) }
                }
                for connection in connections.values where !connection.busy && connection.outbox.isEmpty && connection.parser.isIdle {
                    drop(connection)
                }
                if connections.isEmpty { break }
            }
            if now - lastSweep >= .milliseconds(100) {
                lastSweep = now
                sweep(now)
            }
        }
        for connection in connections.values { drop(connection) }
        finished.store(true, ordering: .releasing)
    }

    // The descriptors close only when nothing can poke the loop any more: an answer arriving
    // after the loop stopped must not write into a descriptor number the process reused.
    deinit {
        close(wake)
        close(epoll)
    }

    /// Wakes the loop (to notice a shutdown at once).
    func poke() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    // MARK: - Connections

    private func acceptAll() {
        while true {
            let socket = imagebump_accept_nonblocking(server.listener)
            guard socket >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE { pauseAccepting() }
                return  // EAGAIN: another loop took it, or none is left
            }
            acceptBackoff = .milliseconds(100)
            var yes: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            if server.active.add(1, ordering: .relaxed).newValue > server.settings.maximumConnections {
                let busy = HTTPServerResponse.error(
                    503, "busy", "more than \(server.settings.maximumConnections) connections are open; retry later")
                _ = busy.serialized(keepAlive: false).withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(socket)
                server.active.subtract(1, ordering: .relaxed)
                continue
            }
            nextSerial += 1
            // The header deadline starts at accept: a connection that never sends a byte holds a
            // place for `headerTimeout`, not the idle timeout meant for kept-alive ones.
            let connection = LoopConnection(
                socket: socket, serial: nextSerial, limits: server.settings.limits,
                deadline: ContinuousClock.now + server.settings.headerTimeout)
            connection.inHead = true
            connection.address = LoopConnection.peerAddress(socket)
            connections[socket] = connection
            connection.interest = UInt32(EPOLLIN.rawValue)
            register(socket, connection.interest, add: true)
        }
    }

    private func pauseAccepting() {
        guard acceptPausedUntil == nil else { return }
        imagebump_epoll_ctl(epoll, EPOLL_CTL_DEL, server.listener, 0)
        acceptPausedUntil = ContinuousClock.now + acceptBackoff
        server.logger.warning(
            "out of file descriptors; not accepting connections for a while",
            metadata: ["pause.ms": "\(acceptBackoff.components.seconds * 1000 + acceptBackoff.components.attoseconds / 1_000_000_000_000_000)"])
        acceptBackoff = min(acceptBackoff * 2, .seconds(1))
    }

    private func resumeAcceptingIfDue(_ now: ContinuousClock.Instant) {
        guard let until = acceptPausedUntil, now >= until, listening else { return }
        acceptPausedUntil = nil
        register(server.listener, UInt32(EPOLLIN.rawValue) | UInt32(EPOLLEXCLUSIVE.rawValue), add: true)
    }

    private func receive(_ connection: LoopConnection, _ buffer: inout [UInt8]) {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection.socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                connection.parser.append(buffer[..<count])
                if count < buffer.count || connection.parser.bufferedBytes > readLimit { break }
            } else if count == 0 {
                return drop(connection)  // the peer closed
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                return drop(connection)
            }
        }
        process(connection)
    }

    /// Bytes a connection may hold unparsed before reading from it pauses (one request of the
    /// largest size fits); the rest waits in the kernel, and the peer's sends block.
    private var readLimit: Int { server.settings.limits.maximumBodyBytes + 65_536 }

    /// Reads from a connection only while it has room: nothing waits to be written to it, and
    /// its buffer is under the limit. Back-pressure for pipelining peers.
    private func updateReading(_ connection: LoopConnection) {
        guard connections[connection.socket] === connection, connection.outbox.isEmpty, !connection.closeWhenWritten else { return }
        // A connection whose answer is pending still reads ahead, up to the limit.
        setInterest(connection, connection.parser.bufferedBytes <= readLimit ? UInt32(EPOLLIN.rawValue) : 0)
    }

    /// Takes the buffered requests one after the other, in a loop: while none is being
    /// answered, nothing waits to be written (back-pressure: a peer that does not read its
    /// answers stops being read), and at most ``requestsPerTurn`` before the other connections
    /// get a turn. An answer given from within (an immediate one) does not come back in here.
    private func process(_ connection: LoopConnection) {
        guard !connection.processing else { return }
        connection.processing = true
        defer { connection.processing = false }
        var handled = 0
        do {
            while !connection.busy, !connection.closeWhenWritten, connection.outbox.isEmpty, connections[connection.socket] === connection {
                guard handled < Self.requestsPerTurn else {
                    if !connection.queued {
                        connection.queued = true
                        ready.append(connection)
                    }
                    return
                }
                guard let output = try connection.parser.next() else { break }
                switch output {
                case .continueExpected:
                    send(connection, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                    connection.deadline = ContinuousClock.now + server.settings.bodyTimeout
                case .request(let request):
                    handled += 1
                    dispatch(request, on: connection)
                }
            }
        } catch {
            connection.closeWhenWritten = true
            send(connection, HTTPServerResponse.error(error.status, "bad request", error.message).serialized(keepAlive: false))
            return
        }
        guard connections[connection.socket] === connection else { return }
        if !connection.busy, !connection.parser.isIdle, !connection.inHead {
            connection.inHead = true
            connection.deadline = min(connection.deadline, ContinuousClock.now + server.settings.headerTimeout)
        }
        // A body has `bodyTimeout` from the end of its head, with or without 100-continue.
        if !connection.busy, connection.parser.isReadingBody, !connection.inBody {
            connection.inBody = true
            connection.deadline = ContinuousClock.now + server.settings.bodyTimeout
        }
        updateReading(connection)
    }

    private func dispatch(_ request: HTTPServerRequest, on connection: LoopConnection) {
        var request = request
        request.remoteAddress = connection.address
        let keepAlive = request.keepAlive && !server.stopping.load(ordering: .relaxed)
        if let immediate = server.immediate, let response = immediate(request) {
            return answer(connection, response, keepAlive: keepAlive)
        }
        connection.busy = true
        let (socket, serial, handler) = (connection.socket, connection.serial, server.handler)
        let respond: @Sendable (HTTPServerResponse) -> Void = { [self] response in
            let first = inbox.withLock { inbox in
                inbox.append(Completion(socket: socket, serial: serial, response: response, keepAlive: keepAlive))
                return inbox.count == 1
            }
            // The loop takes the whole inbox when it wakes; inside an AnswerBatch, once at its end.
            if first, !AnswerBatch.defer(self) { poke() }
        }
        if let deferred = server.deferred, deferred(request, respond) { return }
        Task(executorPreference: server.executor) { respond(await handler(request)) }
    }

    private func deliverCompletions() {
        let completions = inbox.withLock { inbox in
            defer { inbox.removeAll(keepingCapacity: true) }
            return inbox
        }
        for completion in completions {
            guard let connection = connections[completion.socket], connection.serial == completion.serial else { continue }
            connection.busy = false
            answer(connection, completion.response, keepAlive: completion.keepAlive && !server.stopping.load(ordering: .relaxed))
        }
    }

    private func answer(_ connection: LoopConnection, _ response: HTTPServerResponse, keepAlive: Bool) {
        connection.closeWhenWritten = !keepAlive
        send(connection, response.serialized(keepAlive: keepAlive))
        guard connections[connection.socket] === connection, keepAlive else { return }
        connection.inHead = false
        connection.inBody = false
        connection.deadline = ContinuousClock.now + server.settings.idleTimeout
        process(connection)  // a pipelined request may be buffered already (inside process: the loop takes it)
    }

    /// Sends at once what the socket takes; keeps the rest for `EPOLLOUT`.
    private func send(_ connection: LoopConnection, _ bytes: [UInt8]) {
        if connection.outbox.isEmpty {
            let sent = bytes.withUnsafeBytes { Glibc.send(connection.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == bytes.count {
                if connection.closeWhenWritten { drop(connection) }
                return
            }
            if sent < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { return drop(connection) }
            connection.outbox = Array(bytes[max(0, sent)...])
        } else {
            connection.outbox += bytes
        }
        setInterest(connection, UInt32(EPOLLOUT.rawValue))
    }

    private func flush(_ connection: LoopConnection) {
        guard !connection.outbox.isEmpty else { return }
        let sent = connection.outbox.withUnsafeBytes { Glibc.send(connection.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 {
            if errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { drop(connection) }
            return
        }
        connection.outbox.removeFirst(sent)
        guard connection.outbox.isEmpty else { return }
        if connection.closeWhenWritten { return drop(connection) }
        process(connection)
    }

    /// Closes connections whose deadline passed: 408 if a request was under way.
    private func sweep(_ now: ContinuousClock.Instant) {
        for connection in connections.values where !connection.busy && connection.deadline <= now {
            if !connection.parser.isIdle, connection.outbox.isEmpty, !connection.closeWhenWritten {
                connection.closeWhenWritten = true
                send(
                    connection,
                    HTTPServerResponse.error(408, "timeout", "the request did not arrive in time").serialized(keepAlive: false))
            } else {
                drop(connection)
            }
        }
    }

    private func drop(_ connection: LoopConnection) {
        guard connections[connection.socket] === connection else { return }
        connections[connection.socket] = nil
        imagebump_epoll_ctl(epoll, EPOLL_CTL_DEL, connection.socket, 0)
        close(connection.socket)
        server.active.subtract(1, ordering: .relaxed)
    }

    private func setInterest(_ connection: LoopConnection, _ interest: UInt32) {
        guard connection.interest != interest else { return }
        connection.interest = interest
        register(connection.socket, interest, add: false)
    }

    private func register(_ socket: Int32, _ interest: UInt32, add: Bool) {
        imagebump_epoll_ctl(epoll, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, interest)
    }
}
