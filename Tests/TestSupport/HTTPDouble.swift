import Foundation
import Synchronization

/// A request an ``HTTPDouble`` received.
public struct RecordedRequest: Sendable {
    public let method: String
    /// Path with query, as sent.
    public let target: String
    /// Header names lowercased.
    public let headers: [String: String]
    public let body: [UInt8]

    public var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }

    /// Query parameters, percent-decoded.
    public var query: [String: String] {
        guard let components = URLComponents(string: "http://x\(target)") else { return [:] }
        var result: [String: String] = [:]
        for item in components.queryItems ?? [] { result[item.name] = item.value ?? "" }
        return result
    }

    public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
}

/// What an ``HTTPDouble`` answers.
public struct DoubleResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Wait this long before answering (for timeout tests).
    public var delay: Duration

    public init(status: Int, headers: [(String, String)] = [], body: String = "", delay: Duration = .zero) {
        self.status = status
        self.headers = headers
        self.body = Array(body.utf8)
        self.delay = delay
    }

    /// A JSON body with `Content-Type: application/json`.
    public static func json(_ status: Int, _ object: Any, headers: [(String, String)] = []) -> DoubleResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return DoubleResponse(
            status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers,
            body: String(decoding: data, as: UTF8.self))
    }
}

/// An HTTP/1.1 server on 127.0.0.1 for tests: a thread per connection, keep-alive,
/// Content-Length bodies; every request is recorded, every answer comes from `handler`.
public final class HTTPDouble: Sendable {
    public let port: Int
    private let listener: Int32
    private let recorded = Mutex<[RecordedRequest]>([])
    private let answered = Mutex<[(request: RecordedRequest, response: DoubleResponse)]>([])
    private let handler: @Sendable (RecordedRequest) -> DoubleResponse

    public init(handler: @escaping @Sendable (RecordedRequest) -> DoubleResponse) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in(
            sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")),
            sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard listening else { throw GitFixture.Failure(description: "the HTTP double cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                Thread.detachNewThread { self.serve(connection) }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    public var url: String { "http://127.0.0.1:\(port)" }

    public var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// Every request with the answer it got, in order (what ``ForgeContract`` checks).
    public var exchanges: [(request: RecordedRequest, response: DoubleResponse)] { answered.withLock { $0 } }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer: [UInt8] = []
        while let request = readRequest(connection, &buffer) {
            recorded.withLock { $0.append(request) }
            let response = handler(request)
            answered.withLock { $0.append((request, response)) }
            if response.delay > .zero {
                Thread.sleep(
                    forTimeInterval: Double(response.delay.components.seconds) + Double(response.delay.components.attoseconds) / 1e18)
            }
            var head = "HTTP/1.1 \(response.status) \(response.status < 400 ? "OK" : "Error")\r\n"
            for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
            head += "Content-Length: \(response.body.count)\r\n\r\n"
            let bytes = Array(head.utf8) + response.body
            guard bytes.withUnsafeBytes({ send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return }
        }
    }

    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> RecordedRequest? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while true {
            if let range = buffer.firstRange(of: separator) {
                headerEnd = range.upperBound
                break
            }
            guard receive(connection, &buffer) else { return nil }
        }
        guard let end = headerEnd else { return nil }
        let lines = String(decoding: buffer[..<(end - 4)], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < end + length { guard receive(connection, &buffer) else { return nil } }
        let body = Array(buffer[end..<(end + length)])
        buffer.removeSubrange(..<(end + length))
        return RecordedRequest(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
    }

    private func receive(_ connection: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer += chunk[..<count]
        return true
    }
}
