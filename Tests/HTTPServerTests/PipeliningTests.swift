import Foundation
@testable import HTTPServer
import TestSupport
import Testing

/// One connection sending 100,000 pipelined requests in one go: they are answered in a loop
/// (never by recursion, which overflowed the event loop's stack at ~14,000), reading stops
/// while answers are not read back, and the service answers everyone else meanwhile.
@Suite struct PipeliningTests {
    static let count = 100_000

    @Test func aHundredThousandPipelinedRequestsAreAllAnsweredAndTheServerStaysUp() async throws {
        var settings = HTTPServerSettings()
        settings.port = 0
        let ok = HTTPServerResponse.json(200, ["status": "ok"])
        let server = try HTTPServer(
            settings: settings, immediate: { $0.path == "/healthz" ? ok : nil }, handler: { _ in .json(404, ["error": "not found"]) })
        server.start()
        defer { server.shutdown(within: .seconds(2)) }
        let port = server.port
        let single = ok.serialized(keepAlive: true).count

        let received = try await blocking { () throws -> Int in
            let client = try HTTPServerTests.RawClient(port: port)
            let request = Array("GET /healthz HTTP/1.1\r\nHost: imagebump\r\n\r\n".utf8)
            let burst = Array(repeating: request, count: Self.count).flatMap { $0 }
            // The whole burst in one write, from another thread: the server stops reading while
            // its answers wait, so this send blocks until they are read.
            let writer = Thread {
                var offset = 0
                while offset < burst.count {
                    let sent = burst[offset...].withUnsafeBytes { send(client.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent <= 0 { return }
                    offset += sent
                }
            }
            writer.start()
            var total = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while total < single * Self.count {
                let count = recv(client.socket, &chunk, chunk.count, 0)
                if count <= 0 { break }
                total += count
            }
            return total
        }
        #expect(received == single * Self.count, "answers for \(received / single) of \(Self.count) requests")

        // Still up, and answering a new connection.
        let answer = try await blocking { () throws -> String in
            let other = try HTTPServerTests.RawClient(port: port)
            other.send("GET /healthz HTTP/1.1\r\nHost: imagebump\r\nConnection: close\r\n\r\n")
            return other.read()
        }
        #expect(answer.hasPrefix("HTTP/1.1 200"))
    }
}
