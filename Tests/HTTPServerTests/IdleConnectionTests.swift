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
        // On a thread of its own: the steps below must follow each other closely, whatever the
        // test runner's shared threads are busy with.
        let (refused, answer, silent) = try await blocking { () throws -> (String, String, [HTTPServerTests.RawClient]) in
            let silent = try (0..<8).map { _ in try HTTPServerTests.RawClient(port: port) }
            // A connect returns once the kernel queued it; the probe below must come after the
            // server took all eight, or it could take a place itself.
            let accepted = Date().addingTimeInterval(5)
            while server.activeConnections < 8 && Date() < accepted { usleep(1_000) }
            func health() throws -> String {
                let client = try HTTPServerTests.RawClient(port: port)
                client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return client.read()
            }
            // Every place is taken by a connection that says nothing.
            let refused = try health()
            // Within seconds (well before the idle minute) they are closed and the service answers.
            let deadline = Date().addingTimeInterval(40)
            var answer = ""
            while Date() < deadline {
                answer = try health()
                if answer.hasPrefix("HTTP/1.1 200") { break }
                usleep(100_000)
            }
            return (refused, answer, silent)
        }
        #expect(refused.hasPrefix("HTTP/1.1 503"))
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
