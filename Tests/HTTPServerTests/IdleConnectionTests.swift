import Foundation
import HTTPServer
import TestSupport
import Testing

/// Connections that never send a byte hold a place only for the header timeout, counted from
/// accept — not the minute-long idle timeout meant for kept-alive connections.
@Suite struct IdleConnectionTests {
    @Test func silentConnectionsAreClosedAfterTheHeaderTimeoutAndTheServiceAnswersAgain() async throws {
        let server = try HTTPServerTests.start { settings in
            settings.maximumConnections = 8
            settings.headerTimeout = .seconds(10)
            settings.idleTimeout = .seconds(60)
        }
        let port = server.port
        let silent = try await blocking { try (0..<8).map { _ in try HTTPServerTests.RawClient(port: port) } }
        func health() async throws -> String {
            try await blocking { () throws -> String in
                let client = try HTTPServerTests.RawClient(port: port)
                client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return client.read()
            }
        }
        // Every place is taken by a connection that says nothing.
        let refused = try await health()
        #expect(refused.hasPrefix("HTTP/1.1 503"))
        // Within seconds (well before the idle minute) they are closed and the service answers.
        let deadline = ContinuousClock.now + .seconds(40)
        var answer = ""
        while ContinuousClock.now < deadline {
            answer = try await health()
            if answer.hasPrefix("HTTP/1.1 200") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        // Closed by the server, without an answer: a read sees the end of the stream (0), not a
        // receive timeout (-1).
        let reads = try await blocking {
            silent.map { client -> Int in
                var byte: UInt8 = 0
                return recv(client.socket, &byte, 1, 0)
            }
        }
        #expect(reads.allSatisfy { $0 == 0 }, "\(reads)")
    }
}
