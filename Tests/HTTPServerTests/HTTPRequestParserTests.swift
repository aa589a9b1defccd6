import Foundation
import HTTPServer
import TestSupport
import Testing

@Suite struct HTTPRequestParserTests {
    static let requests = fixturesDirectory().appendingPathComponent("requests")

    func fixture(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: Self.requests.appendingPathComponent(name))) }

    /// Every output for `bytes`, fed in one piece or one byte at a time.
    func parse(_ bytes: [UInt8], byteByByte: Bool, limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> [HTTPRequestParser.Output] {
        var parser = HTTPRequestParser(limits: limits)
        var outputs: [HTTPRequestParser.Output] = []
        let pieces: [[UInt8]] = byteByByte ? bytes.map { [$0] } : [bytes]
        for piece in pieces {
            parser.append(piece)
            while let output = try parser.next() { outputs.append(output) }
        }
        return outputs
    }

    func requests(_ outputs: [HTTPRequestParser.Output]) -> [HTTPServerRequest] {
        outputs.compactMap { if case .request(let request) = $0 { request } else { nil } }
    }

    @Test(arguments: [false, true])
    func aRegistryNotification(byteByByte: Bool) throws {
        let bytes = try fixture("distribution-push.http")
        let parsed = requests(try parse(bytes, byteByByte: byteByByte))
        #expect(parsed.count == 1)
        let request = try #require(parsed.first)
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/registry")
        #expect(request.pathSegments == ["hooks", "registry"])
        #expect(request.query == nil)
        #expect(request.header("content-type") == "application/vnd.docker.distribution.events.v1+json")
        #expect(request.body.count == Int(request.header("Content-Length") ?? "-1"))
        #expect(request.body.first == UInt8(ascii: "{"))
        #expect(request.keepAlive)
    }

    @Test(arguments: [false, true])
    func chunkedBodiesAreJoined(byteByByte: Bool) throws {
        let request = try #require(requests(try parse(try fixture("github-chunked.http"), byteByByte: byteByByte)).first)
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"zen":"Keep it"}"#)
    }

    @Test(arguments: [false, true])
    func expectContinueComesBeforeTheBody(byteByByte: Bool) throws {
        let bytes = try fixture("curl-expect-continue.http")
        let split = bytes.count - 46
        var parser = HTTPRequestParser()
        // Fed whole, or a byte at a time: the 100-continue is owed once, right after the head's
        // last byte, and the request comes with the body's last byte — never earlier.
        var outputs: [(at: Int, output: HTTPRequestParser.Output)] = []
        let pieces: [(end: Int, bytes: ArraySlice<UInt8>)] =
            byteByByte ? bytes.indices.map { ($0 + 1, bytes[$0...$0]) } : [(split, bytes[..<split]), (bytes.count, bytes[split...])]
        for piece in pieces {
            parser.append(Array(piece.bytes))
            while let output = try parser.next() { outputs.append((piece.end, output)) }
        }
        #expect(outputs.count == 2)
        guard outputs.count == 2, case .continueExpected = outputs[0].output, case .request(let request) = outputs[1].output else {
            Issue.record("expected 100-continue, then the request: \(outputs)")
            return
        }
        #expect(outputs[0].at == split)
        #expect(outputs[1].at == bytes.count)
        #expect(request.body.count == 46)
        // All at once: the body is already here, so no 100 Continue is owed.
        #expect(try parse(bytes, byteByByte: false).count == 1)
    }

    @Test(arguments: [false, true])
    func pipelinedRequestsAndConnectionClose(byteByByte: Bool) throws {
        let parsed = requests(try parse(try fixture("healthz-keepalive-pipelined.http"), byteByByte: byteByByte))
        #expect(parsed.map(\.path) == ["/healthz", "/readyz"])
        #expect(parsed.map(\.keepAlive) == [true, false])
    }

    @Test func http10ClosesByDefault() throws {
        let request = try #require(requests(try parse(try fixture("http10.http"), byteByByte: false)).first)
        #expect(!request.keepAlive)
    }

    @Test(arguments: [
        ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
        ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413),
        ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("GET /x HTTP/1.1\r\n\r\n", 400),
        ("GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET /x HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("GET /x HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400),
        ("GET /x  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("G@T /x HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        ("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", 413),
    ])
    func badRequestsGetTheirStatus(text: String, status: Int) {
        do {
            _ = try parse(Array(text.utf8), byteByByte: false)
            Issue.record("accepted: \(text.debugDescription)")
        } catch {
            #expect(error.status == status, "\(text.debugDescription): \(error)")
        }
    }

    @Test func headerLimits() {
        var limits = HTTPLimits()
        limits.maximumHeaderBytes = 200
        limits.maximumHeaderCount = 5
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "y", count: 300))\r\n\r\n"
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + (1...6).map { "X\($0): y\r\n" }.joined() + "\r\n"
        for (text, status) in [(big, 431), (many, 431)] {
            do {
                _ = try parse(Array(text.utf8), byteByByte: true, limits: limits)
                Issue.record("accepted")
            } catch {
                #expect(error.status == status)
            }
        }
        // A head that never ends is refused once it passes the limit, not buffered forever.
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(("GET / HTTP/1.1\r\nX: " + String(repeating: "y", count: 400)).utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }
}

@Suite struct RequestTargetTests {
    @Test func pathSegmentsAndQuery() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET //v1/events/abc/?status=done&image=ghcr.io/acme/api HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        guard case .request(let request)? = try parser.next() else {
            Issue.record("no request")
            return
        }
        #expect(request.path == "//v1/events/abc/")
        #expect(request.pathSegments == ["v1", "events", "abc"])
        #expect(request.query == "status=done&image=ghcr.io/acme/api")
    }
}

/// What a stranger may send that must be refused at once, with its reason.
@Suite struct HTTPRequestRefusalTests {
    func refusal(_ text: String) -> HTTPParseError? {
        var parser = HTTPRequestParser()
        parser.append(Array(text.utf8))
        do {
            while try parser.next() != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test func aChunkSizeWithASignIsRefused() {
        let error = refusal("POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nab\r\n0\r\n\r\n")
        #expect(error?.status == 400)
        #expect(error?.message.contains("hexadecimal") == true)
    }

    @Test func twoHostHeadersAreRefused() {
        let error = refusal("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        #expect(error?.status == 400)
        #expect(error?.message.contains("one Host header") == true)
    }

    @Test(arguments: ["GET /healthz HTTP/1.1\nHost: a\n\n", "GET /healthz HTTP/1.1\r\nHost: a\n\n", "GET / HTTP/1.1\n"])
    func bareLineFeedsAreRefusedAtOnce(_ text: String) {
        let error = refusal(text)
        #expect(error?.status == 400)
        #expect(error?.message.contains("CRLF") == true)
    }

    @Test func crlfRequestsStillParse() {
        #expect(refusal("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n") == nil)
    }
}
