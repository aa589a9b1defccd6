/// A request as the server hands it to a handler.
public struct HTTPServerRequest: Sendable {
    public let method: String
    /// The request target as sent: path and query.
    public let target: String
    /// Header names lowercased, in order.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// Whether the connection stays open after the answer.
    public let keepAlive: Bool
    /// The peer's IP address, as the server's socket sees it (set by the event loop).
    public internal(set) var remoteAddress = ""

    public var path: String { String(Substring(target.utf8.prefix { $0 != UInt8(ascii: "?") })) }
    /// The path's segments (`/hooks/ci` → ["hooks", "ci"]), empty ones dropped.
    public var pathSegments: [String] {
        target.utf8.prefix { $0 != UInt8(ascii: "?") }.split(separator: UInt8(ascii: "/")).map { String(Substring($0)) }
    }
    public var query: String? { target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) } }

    /// The last value of a header (names compare case-insensitively).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name == lower }?.value
    }
}

/// Limits the parser enforces; each has a status of its own when exceeded.
public struct HTTPLimits: Sendable, Hashable {
    /// Request body (413).
    public var maximumBodyBytes = 1 << 20
    /// Request line and headers together (431).
    public var maximumHeaderBytes = 16 << 10
    /// Header fields (431).
    public var maximumHeaderCount = 100

    public init() {}
}

/// Why a request cannot be read; the status says what to answer before closing.
public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public let status: Int
    public let message: String

    public var description: String { "\(status): \(message)" }
}

/// A strict, incremental HTTP/1.1 request parser: feed bytes as they arrive, take requests
/// as they complete. It never trusts a length it has not read: bodies are bounded before they
/// are buffered, chunk sizes are checked against the limit, header bytes are counted while
/// waiting for the blank line.
public struct HTTPRequestParser: Sendable {
    /// What the parser has for the server.
    public enum Output: Sendable {
        /// The client sent `Expect: 100-continue` and waits for `100 Continue`.
        case continueExpected
        case request(HTTPServerRequest)
    }

    private enum Phase: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
    }

    public let limits: HTTPLimits
    private var buffer = ByteQueue()
    /// Where the search for the head's end resumes (bytes before it were searched already).
    private var headSearched = 0
    private var phase = Phase.head
    private var method = ""
    private var target = ""
    private var headers: [(name: String, value: String)] = []
    private var keepAlive = true
    private var body: [UInt8] = []
    private var continuePending = false

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed (pipelined requests wait here).
    public var bufferedBytes: Int { buffer.count }
    /// True while a request's head was read and its body is still arriving.
    public var isReadingBody: Bool { if case .head = phase { false } else { true } }

    /// True between requests: nothing of a next request has arrived.
    public var isIdle: Bool { buffer.isEmpty && { if case .head = phase { return true } else { return false } }() }

    public mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// The next complete output, or nil until more bytes arrive.
    public mutating func next() throws(HTTPParseError) -> Output? {
        while true {
            switch phase {
            case .head:
                let from = max(0, headSearched - 3)
                guard let end = buffer.find([13, 10, 13, 10], from: from) else {
                    // Lines end with CRLF: a bare LF would leave the request waiting for an end
                    // that never comes (until the header timeout), so it is refused at once.
                    var newline = buffer.find([10], from: headSearched)
                    while let at = newline {
                        guard at > 0, buffer[at - 1] == 13 else {
                            throw HTTPParseError(status: 400, message: "lines must end with CRLF (a bare LF was sent)")
                        }
                        newline = buffer.find([10], from: at + 1)
                    }
                    headSearched = buffer.count
                    if buffer.count > limits.maximumHeaderBytes {
                        throw HTTPParseError(status: 431, message: "the request head is larger than \(limits.maximumHeaderBytes) bytes")
                    }
                    return nil
                }
                guard end + 4 <= limits.maximumHeaderBytes else {
                    throw HTTPParseError(status: 431, message: "the request head is larger than \(limits.maximumHeaderBytes) bytes")
                }
                headSearched = 0
                try parseHead(buffer.prefix(end))
                buffer.removeFirst(end + 4)
                if continuePending, !isBodyComplete {
                    continuePending = false
                    return .continueExpected
                }
            case .fixedBody(let remaining):
                guard buffer.count >= remaining else { return nil }
                body = buffer.prefix(remaining)
                buffer.removeFirst(remaining)
                return .request(finish())
            case .chunkSize:
                guard let end = buffer.find([13, 10], from: 0) else {
                    if buffer.count > 1024 { throw HTTPParseError(status: 400, message: "a chunk size line is too long") }
                    return nil
                }
                let line = buffer.prefix(end)
                let digits = line.prefix { $0 != UInt8(ascii: ";") }
                guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy(Self.isHexDigit),
                    let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
                else {
                    throw HTTPParseError(status: 400, message: "a chunk size is not hexadecimal")
                }
                buffer.removeFirst(end + 2)
                if size == 0 {
                    phase = .trailers
                } else {
                    guard body.count + size <= limits.maximumBodyBytes else {
                        throw HTTPParseError(status: 413, message: "the body is larger than \(limits.maximumBodyBytes) bytes")
                    }
                    phase = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                guard !buffer.isEmpty else { return nil }
                let take = min(remaining, buffer.count)
                body.append(contentsOf: buffer.prefix(take))
                buffer.removeFirst(take)
                phase = take == remaining ? .chunkEnd : .chunkData(remaining: remaining - take)
            case .chunkEnd:
                guard buffer.count >= 2 else { return nil }
                guard buffer[0] == 13, buffer[1] == 10 else { throw HTTPParseError(status: 400, message: "a chunk does not end with CRLF") }
                buffer.removeFirst(2)
                phase = .chunkSize
            case .trailers:
                // Trailer fields are read and dropped; the section ends with an empty line.
                guard let end = buffer.find([13, 10], from: 0) else {
                    if buffer.count > limits.maximumHeaderBytes { throw HTTPParseError(status: 431, message: "the trailers are too large") }
                    return nil
                }
                buffer.removeFirst(end + 2)
                if end == 0 { return .request(finish()) }
            }
        }
    }

    private var isBodyComplete: Bool {
        switch phase {
        case .fixedBody(let remaining): return buffer.count >= remaining
        case .head: return true
        default: return false
        }
    }

    private mutating func finish() -> HTTPServerRequest {
        let request = HTTPServerRequest(method: method, target: target, headers: headers, body: body, keepAlive: keepAlive)
        phase = .head
        headers = []
        body = []
        return request
    }

    private mutating func parseHead(_ head: [UInt8]) throws(HTTPParseError) {
        func bad(_ message: String) -> HTTPParseError { HTTPParseError(status: 400, message: message) }
        var lines = Self.split(head)
        guard !lines.isEmpty else { throw bad("the request line is missing") }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw bad("the request line is not METHOD TARGET VERSION") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(Self.isToken) else { throw bad("the method is not a token") }
        guard let first = parts[1].first, first == UInt8(ascii: "/") || (parts[1].count == 1 && first == UInt8(ascii: "*")),
            parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw bad("the request target must be an absolute path") }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(status: 505, message: "only HTTP/1.1 and HTTP/1.0 are spoken")
        }
        method = String(decoding: parts[0], as: UTF8.self)
        target = String(decoding: parts[1], as: UTF8.self)

        guard lines.count <= limits.maximumHeaderCount else {
            throw HTTPParseError(status: 431, message: "more than \(limits.maximumHeaderCount) header fields")
        }
        headers = []
        for line in lines {
            guard let first = line.first else { throw bad("an empty header line") }
            guard first != 0x20, first != 0x09 else { throw bad("folded header lines are not accepted") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw bad("a header line has no colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(Self.isToken) else {
                throw bad("a header name is not a token (no spaces before the colon)")
            }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw bad("a header value holds control characters")
            }
            headers.append((String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)))
        }

        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        let encodings = headers.filter { $0.name == "transfer-encoding" }.map { $0.value.lowercased() }
        let hosts = headers.filter { $0.name == "host" }.count
        if version == "HTTP/1.1", hosts == 0 { throw bad("HTTP/1.1 requests need a Host header") }
        guard hosts <= 1 else { throw bad("a request carries one Host header, not \(hosts)") }
        guard lengths.isEmpty || encodings.isEmpty else { throw bad("a request may not carry both Content-Length and Transfer-Encoding") }
        let connection = headers.last { $0.name == "connection" }?.value.lowercased() ?? ""
        keepAlive = version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
        continuePending = headers.last { $0.name == "expect" }?.value.lowercased() == "100-continue"
        body = []
        if !encodings.isEmpty {
            guard encodings == ["chunked"] else {
                throw HTTPParseError(status: 501, message: "only the chunked transfer coding is understood")
            }
            phase = .chunkSize
        } else if let length = lengths.first {
            guard lengths.count == 1, !length.isEmpty, length.count <= 12, length.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let count = Int(length)
            else {
                throw bad("Content-Length must be one decimal number")
            }
            guard count <= limits.maximumBodyBytes else {
                throw HTTPParseError(status: 413, message: "the body is larger than \(limits.maximumBodyBytes) bytes")
            }
            phase = .fixedBody(remaining: count)
        } else {
            phase = .fixedBody(remaining: 0)
        }
    }

    /// RFC 9110 `tchar`s, one flag per byte value.
    private static let tokenBytes: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func isToken(_ byte: UInt8) -> Bool { tokenBytes[Int(byte)] }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }

    /// Lines separated by CRLF; a bare CR or LF inside a line is refused by the header checks.
    static func split(_ head: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index + 1 < head.count {
            if head[index] == 13, head[index + 1] == 10 {
                lines.append(head[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(head[start...])
        return lines
    }
}

/// The parser's unread bytes: consumed from the front by moving an offset (a pipelined burst
/// of small requests would otherwise move the whole buffer once per request), compacted when
/// the consumed part is the larger.
struct ByteQueue {
    private var storage: [UInt8] = []
    private var start = 0

    var count: Int { storage.count - start }
    var isEmpty: Bool { start == storage.count }

    subscript(index: Int) -> UInt8 { storage[start + index] }

    mutating func append(contentsOf bytes: some Sequence<UInt8>) { storage.append(contentsOf: bytes) }

    /// The first `length` bytes.
    func prefix(_ length: Int) -> [UInt8] { Array(storage[start..<(start + length)]) }

    mutating func removeFirst(_ length: Int) {
        start += length
        if start == storage.count {
            storage.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096, start * 2 > storage.count {
            storage.removeSubrange(..<start)
            start = 0
        }
    }

    /// Where `needle` first starts at or after `from` (relative to the front), if it does.
    func find(_ needle: [UInt8], from: Int) -> Int? {
        guard count >= needle.count else { return nil }
        var index = start + max(0, from)
        let last = storage.count - needle.count
        while index <= last {
            if storage[index] == needle[0], storage[index..<(index + needle.count)].elementsEqual(needle) { return index - start }
            index += 1
        }
        return nil
    }
}
