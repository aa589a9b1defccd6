import Events
import Foundation
import TestSupport
import Testing

/// Every real payload in `Fixtures/payloads/` (copied from the vendors' docs and open-source
/// fixtures; see shared payloads INDEX.md) through its receiver, against `expected.jsonl`,
/// which records INDEX.md's expected result for each: accepted images, ignore, or reject.
@Suite struct DeliveryDecoderTests {
    typealias Expectation = PayloadExpectation

    static let fixtures = fixturesDirectory()
    static let expectations: [Expectation] = PayloadExpectation.all()

    @Test func everyPayloadHasAnExpectation() throws {
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.appendingPathComponent("payloads").path))
        #expect(Set(Self.expectations.map(\.file)) == files)
        #expect(Self.expectations.count >= 40)
    }

    @Test(arguments: expectations)
    func decodesAsDocumented(_ expectation: Expectation) throws {
        let body = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("payloads/\(expectation.file)")))
        let type = try #require(ReceiverType(rawValue: expectation.receiver))
        let context = ReceiverContext(registryHost: expectation.context.registryHost, nexusHosts: expectation.context.nexusHosts ?? [:])
        let result: DecodedDelivery
        do {
            result = try DeliveryDecoder.decode(type, headers: expectation.headers, body: body, context: context)
        } catch {
            #expect(expectation.outcome == "reject", "rejected: \(error)")
            return
        }
        switch result {
        case .accepted(let events):
            #expect(events.map(\.description) == expectation.accept, "accepted \(events)")
            #expect(events.allSatisfy { $0.image != nil && $0.source == expectation.receiver })
        case .ignored(let reason):
            #expect(expectation.outcome == "ignore", "ignored: \(reason)")
            #expect(!reason.isEmpty)
        case .merged(let notice):
            Issue.record("a registry payload read as a merge request: \(notice)")
        }
    }

    @Test func deliveryIDsAreKept() throws {
        let expectation = try #require(Self.expectations.first { $0.file == "github-registry-package-published.json" })
        let body = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("payloads/\(expectation.file)")))
        guard case .accepted(let events) = try DeliveryDecoder.decode(.github, headers: expectation.headers, body: body) else {
            Issue.record("expected an accepted event")
            return
        }
        #expect(events.first?.deliveryID == "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    }

    @Test(arguments: [
        (#"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#, "ghcr.io/acme/api:1.4.2"),
        (#"{"image": "ghcr.io/acme/api:1.4.2"}"#, "ghcr.io/acme/api:1.4.2"),
        (
            #"{"image": "nginx", "digest": "sha256:\#(String(repeating: "a", count: 64))"}"#,
            "docker.io/library/nginx@sha256:\(String(repeating: "a", count: 64))"
        ),
    ])
    func genericCIPosts(body: String, expected: String) throws {
        guard case .accepted(let events) = try DeliveryDecoder.decode(.generic, headers: [:], body: Array(body.utf8)) else {
            Issue.record("expected an accepted event")
            return
        }
        #expect(events.map(\.description) == [expected])
    }

    @Test(arguments: [
        (#"{"tag": "1"}"#, PayloadError.Code.unexpectedShape), (#"{"image": "Bad/Name"}"#, .invalidValue),
        (#"{"image": "ghcr.io/a/b", "tag": "-x"}"#, .invalidValue), (#"{"image": "ghcr.io/a/b", "digest": "sha256:1"}"#, .invalidValue),
        ("not json", .notJSON), ("[1]", .notJSON),
    ])
    func badGenericPostsAreRejectedWithAReasonAndACode(body: String, code: PayloadError.Code) {
        do {
            _ = try DeliveryDecoder.decode(.generic, headers: [:], body: Array(body.utf8))
            Issue.record("expected a PayloadError")
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(!error.reason.isEmpty)
            #expect((error.underlying != nil) == (body == "not json" || body.contains("Bad/Name")))
        }
    }

    @Test func githubPingIsIgnored() throws {
        #expect(
            try DeliveryDecoder.decode(.github, headers: ["x-github-event": "ping"], body: Array(#"{"zen": "Design for failure."}"#.utf8))
                == .ignored("ping"))
    }
}
