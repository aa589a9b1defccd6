import Dispatch
import Foundation
import Synchronization

/// One client connection: read with deadlines, parse, answer, repeat while kept alive.
struct Connection {
    let socket: Int32
    let settings: HTTPServerSettings
    let handler: HTTPHandler
    let executor: HandlerExecutor
    let stopping: () -> Bool

    func serve() {
        var parser = HTTPRequestParser(limits: settings.limits)
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var deadline = ContinuousClock.now + settings.idleTimeout
        var inHead = false
        while true {
            // Drain what is already buffered before reading more.
            do {
                while let output = try parser.next() {
                    switch output {
                    case .continueExpected:
                        Self.write(socket, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                        deadline = ContinuousClock.now + settings.bodyTimeout
                    case .request(let request):
                        let response = Self.run(handler, request, on: executor)
                        let keepAlive = request.keepAlive && !stopping()
                        guard Self.write(socket, response.serialized(keepAlive: keepAlive)), keepAlive else { return }
                        deadline = ContinuousClock.now + settings.idleTimeout
                        inHead = false
                    }
                }
            } catch {
                Self.write(socket, HTTPServerResponse.error(error.status, "bad request", error.message).serialized(keepAlive: false))
                return
            }
            if parser.isIdle {
                if stopping() { return }
            } else if !inHead {
                inHead = true
                deadline = min(deadline, ContinuousClock.now + settings.headerTimeout)
            }
            // Wait for bytes, in short steps so that a shutdown is noticed by idle connections.
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                if !parser.isIdle {
                    Self.write(
                        socket, HTTPServerResponse.error(408, "timeout", "the request did not arrive in time").serialized(keepAlive: false))
                }
                return
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let step = min(100, Int32(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000) + 1)
            let ready = poll(&descriptor, 1, step)
            if ready < 0, errno != EINTR { return }
            guard ready > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            parser.append(chunk[..<count])
        }
    }

    /// Runs the async handler from this connection's thread and waits for its answer.
    static func run(_ handler: @escaping HTTPHandler, _ request: HTTPServerRequest, on executor: HandlerExecutor) -> HTTPServerResponse {
        let result = Mutex<HTTPServerResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let response = await handler(request)
            result.withLock { $0 = response }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 } ?? HTTPServerResponse.error(500, "internal error", "the handler gave no answer")
    }

    /// Writes all bytes (one `send` unless the kernel takes less); false when the peer is gone.
    @discardableResult
    static func write(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return send(socket, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))  // no SIGPIPE if the peer left
            }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }
}
