import Foundation
import HTTPClient
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// The server over real loopback sockets.
@Suite struct HTTPServerTests {
    static func start(_ configure: (inout HTTPServerSettings) -> Void = { _ in }, handler: @escaping HTTPHandler = echo) throws
        -> HTTPServer
    {
        var settings = HTTPServerSettings()
        settings.port = 0
        configure(&settings)
        let server = try HTTPServer(settings: settings, handler: handler)
        server.start()
        return server
    }

    static let echo: HTTPHandler = { request in
        .json(200, ["method": request.method, "path": request.path, "body": String(decoding: request.body, as: UTF8.self)])
    }

    /// A raw client: connect, send bytes, read until the peer closes or `until` appears.
    final class RawClient: @unchecked Sendable {  // used by one thread at a time inside `blocking`
        let socket: Int32

        init(port: Int) throws { socket = try LoopbackSocket.connect(port: port) }

        deinit { close(socket) }

        func send(_ text: String) {
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(socket, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        }

        /// Reads until `marker` has been seen `times` times, or the connection closes.
        func read(until marker: String? = nil, times: Int = 1) -> String {
            var received = Data()
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                if let marker, String(decoding: received, as: UTF8.self).components(separatedBy: marker).count > times { break }
                let count = recv(socket, &chunk, chunk.count, 0)
                if count <= 0 { break }
                received.append(contentsOf: chunk[..<count])
            }
            return String(decoding: received, as: UTF8.self)
        }
    }

    @Test func answersOverKeepAliveInOneConnection() async throws {
        let server = try Self.start()
        defer { server.shutdown(within: .seconds(1)) }
        let port = server.port
        let text = try await blocking {
            let client = try RawClient(port: port)
            client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPOST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            return client.read(until: "}", times: 2)
        }
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3)
        #expect(text.contains(#""path":"/healthz""#))
        #expect(text.contains(#""body":"{}""#))
        #expect(!text.contains("Connection: close"))
    }

    @Test func limitsAnswerWithTheirStatusAndAJSONError() async throws {
        let server = try Self.start {
            $0.limits.maximumBodyBytes = 1000
            $0.limits.maximumHeaderBytes = 512
        }
        defer { server.shutdown(within: .seconds(1)) }
        let cases: [(String, String)] = [
            ("POST /hooks/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", "HTTP/1.1 413 Content Too Large"),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nX: \(String(repeating: "a", count: 600))\r\n\r\n",
                "HTTP/1.1 431 Request Header Fields Too Large"
            ),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 400 Bad Request"),
        ]
        let port = server.port
        for (request, status) in cases {
            let text = try await blocking {
                let client = try RawClient(port: port)
                client.send(request)
                return client.read()
            }
            #expect(text.hasPrefix(status), "\(request.prefix(40)): \(text.prefix(80))")
            #expect(text.contains("Connection: close"))
            let body = text.components(separatedBy: "\r\n\r\n").last ?? ""
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String]
            #expect(json?["error"] == "bad request")
            #expect(json?["detail"]?.isEmpty == false)
        }
    }

    @Test func slowClientsTimeOut() async throws {
        let server = try Self.start { $0.headerTimeout = .milliseconds(200) }
        defer { server.shutdown(within: .seconds(1)) }
        let port = server.port
        // The client never finishes its head: only the server's header deadline can end this.
        let text = try await blocking {
            let client = try RawClient(port: port)
            client.send("GET /healthz HTTP/1.1\r\nHo")
            return client.read()
        }
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout"))
    }

    @Test func expectContinueIsAnswered() async throws {
        let server = try Self.start()
        defer { server.shutdown(within: .seconds(1)) }
        let port = server.port
        let (interim, final) = try await blocking {
            let client = try RawClient(port: port)
            client.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            let interim = client.read(until: "\r\n\r\n")
            client.send("abcd")
            return (interim, client.read(until: "}"))
        }
        #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(final.contains(#""body":"abcd""#))
    }

    @Test func tooManyConnectionsAreTold503() async throws {
        let server = try Self.start { $0.maximumConnections = 2 }
        defer { server.shutdown(within: .seconds(1)) }
        let port = server.port
        let text = try await blocking {
            let first = try RawClient(port: port)
            let second = try RawClient(port: port)
            first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = first.read(until: "}")
            _ = second.read(until: "}")
            return try RawClient(port: port).read()
        }
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable"))
        #expect(text.contains(#""error":"busy""#))
    }

    @Test func twoHundredParallelKeepAliveClients() async throws {
        let server = try Self.start()
        defer { server.shutdown(within: .seconds(2)) }
        let port = server.port
        let answered = try await blocking {
            let answered = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 200) { index in
                guard let client = try? RawClient(port: port) else { return }
                for request in 0..<3 {
                    client.send("POST /hooks/c\(index) HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nr\(request)xyz")
                }
                let text = client.read(until: "}", times: 3)
                answered.add(text.components(separatedBy: "HTTP/1.1 200 OK").count - 1, ordering: .relaxed)
            }
            return answered.load(ordering: .relaxed)
        }
        #expect(answered == 600)
    }

    /// Deferred answers given together from another thread inside an AnswerBatch (as the journal
    /// gives them after a group commit) all reach their clients: the loops are woken at the end.
    @Test func answersGivenInABatchAllArrive() async throws {
        let clients = 40
        let waiting = Mutex<[@Sendable (HTTPServerResponse) -> Void]>([])
        var settings = HTTPServerSettings()
        settings.port = 0
        let server = try HTTPServer(
            settings: settings,
            deferred: { request, respond in
                let all = waiting.withLock { waiting -> [@Sendable (HTTPServerResponse) -> Void] in
                    waiting.append(respond)
                    return waiting.count == clients ? waiting : []
                }
                if !all.isEmpty {
                    Thread.detachNewThread {
                        AnswerBatch.run { for (index, answer) in all.enumerated() { answer(.json(202, ["n": index])) } }
                    }
                }
                return true
            }, handler: Self.echo)
        server.start()
        defer { server.shutdown(within: .seconds(2)) }
        let port = server.port
        let answered = try await blocking {
            // Every request is sent before any answer is read: the answers come only once all are in.
            let connections = try (0..<clients).map { _ in try RawClient(port: port) }
            for (index, client) in connections.enumerated() {
                client.send("POST /hooks/c\(index) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            }
            return connections.filter { $0.read(until: "}").contains("HTTP/1.1 202 Accepted") }.count
        }
        #expect(answered == clients)
    }

    @Test func setUpFailuresCarryACodeAndTheSystemsError() throws {
        let server = try Self.start()
        defer { server.shutdown(within: .seconds(1)) }
        do {
            _ = try Self.start { $0.port = server.port }
            Issue.record("a second server bound the same port")
        } catch let error as HTTPServerError {
            #expect(error.code == .bind)
            #expect(error.errno == EADDRINUSE)
            #expect(error.description == "bind 127.0.0.1:\(server.port): Address already in use")
        }
        do {
            _ = try Self.start { $0.host = "localhost" }
            Issue.record("a host name was taken for an address")
        } catch let error as HTTPServerError {
            #expect(error.code == .address)
            #expect(error.errno == nil)
        }
    }

    @Test func shutdownFinishesRequestsInFlightAndStopsAccepting() async throws {
        // The handler holds its request until the shutdown has begun: the answer is given
        // during the shutdown, whatever the machine's speed.
        let running = Mutex<HTTPServer?>(nil)
        let started = DispatchSemaphore(value: 0)
        let server = try Self.start(handler: { _ in
            started.signal()
            let deadline = ContinuousClock.now + .seconds(10)
            while running.withLock({ $0?.isStopping != true }), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            return .json(202, ["accepted": true])
        })
        running.withLock { $0 = server }
        let port = server.port
        let (text, stopped) = try await blocking { () throws -> (String, Bool) in
            let client = try RawClient(port: port)
            client.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            guard started.wait(timeout: .now() + 10) == .success else { return ("the request never reached the handler", false) }
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                server.shutdown(within: .seconds(5))
                done.signal()
            }
            let text = client.read(until: "}")
            return (text, done.wait(timeout: .now() + 10) == .success)
        }
        #expect(text.hasPrefix("HTTP/1.1 202 Accepted"), "\(text)")
        #expect(text.contains("Connection: close"))
        #expect(stopped)
        #expect((try? RawClient(port: port)) == nil)
    }
}
