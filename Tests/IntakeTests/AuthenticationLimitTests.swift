import Foundation
import Intake
import TestSupport
import Testing

/// Guessing a token from one address: after 10 failures it is answered 429 with Retry-After,
/// and its guesses are no longer even checked; another address is not affected.
@Suite struct AuthenticationLimitTests {
    /// A POST of `body` from a chosen loopback source address; the raw answer.
    static func post(from source: String, port: Int, token: String, body: String) throws -> String {
        let descriptor = try LoopbackSocket.connect(port: port, from: source)
        defer { close(descriptor) }
        let request =
            "POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = request.utf8CString.withUnsafeBufferPointer { send(descriptor, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        var answer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count <= 0 { break }
            answer += chunk[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test func repeatedFailuresFromOneAddressAreLimitedAndOthersAreNot() async throws {
        // One failure back every ten minutes: the test's own pace cannot refill the bucket.
        let service = try IntakeEndToEndTests.Service(limiter: AuthenticationLimiter(burst: 10, refill: .seconds(600)))
        let port = Int(service.url.split(separator: ":").last ?? "") ?? 0
        let body = #"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#
        let answers = try await blocking {
            try (0..<15).map { index in try Self.post(from: "127.0.0.2", port: port, token: "guess-\(index)-0123456789", body: body) }
        }
        let statuses = answers.map { String($0.prefix(12)) }
        #expect(statuses.prefix(10).allSatisfy { $0 == "HTTP/1.1 401" }, "\(statuses)")
        #expect(statuses.suffix(5).allSatisfy { $0 == "HTTP/1.1 429" }, "\(statuses)")
        #expect(answers.last?.contains("Retry-After: ") == true)
        // While limited, even the right token from that address waits (guesses are not checked).
        let limited = try await blocking { try Self.post(from: "127.0.0.2", port: port, token: IntakeEndToEndTests.token, body: body) }
        #expect(limited.hasPrefix("HTTP/1.1 429"))
        // Another address is not affected.
        let other = try await blocking { try Self.post(from: "127.0.0.1", port: port, token: IntakeEndToEndTests.token, body: body) }
        #expect(other.hasPrefix("HTTP/1.1 202"), "\(other)")
    }
}
