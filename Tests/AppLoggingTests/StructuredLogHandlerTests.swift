import Foundation
import Logging
import Testing

@testable import AppLogging

@Suite struct StructuredLogHandlerTests {
    func logger(_ format: StructuredLogHandler.Format, secrets: [String] = []) -> (Logger, MemorySink) {
        let sink = MemorySink()
        let handler = StructuredLogHandler(label: "test", format: format, level: .debug, redactor: Redactor(secrets: secrets), sink: sink)
        return (Logger(label: "test", factory: { _ in handler }), sink)
    }

    @Test func logfmtLineHasLevelMessageAndDottedMetadata() throws {
        let (log, sink) = logger(.logfmt)
        log.info("bumped image", metadata: ["image.repository": "ghcr.io/acme/api", "event.id": "e 1"])
        let line = try #require(sink.lines.first)
        #expect(line.contains(" level=info logger=test msg=\"bumped image\" "))
        #expect(line.hasSuffix("event.id=\"e 1\" image.repository=ghcr.io/acme/api"))
        #expect(line.hasPrefix("time=20"))
    }

    @Test func jsonLineParses() throws {
        let (log, sink) = logger(.json)
        log.warning("a \"quoted\"\nmessage", metadata: ["file": "envs/dev/a.yaml"])
        let line = try #require(sink.lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "a \"quoted\"\nmessage")
        #expect(object["level"] == "warning")
        #expect(object["file"] == "envs/dev/a.yaml")
    }

    @Test func numbersStayNumbersInJSON() throws {
        let (log, sink) = logger(.json)
        log.info("journal pruned", metadata: ["events": .stringConvertible(12), "ratio": .stringConvertible(0.5), "id": "0042"])
        let line = try #require(sink.lines.first)
        #expect(line.contains(#""events":12"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["events"] as? Int == 12)
        #expect(object["ratio"] as? Double == 0.5)
        #expect(object["id"] as? String == "0042")  // digits given as text stay text
    }

    @Test func secretsAreRedactedEverywhere() throws {
        let (log, sink) = logger(.logfmt, secrets: ["ghp_s3cr3tT0ken"])
        log.error(
            "push to https://bot:ghp_s3cr3tT0ken@git.example.com/env.git failed with token ghp_s3cr3tT0ken",
            metadata: ["git.token": "anything", "http.authorization": "Bearer abc", "detail": "header had ghp_s3cr3tT0ken"])
        let line = try #require(sink.lines.first)
        #expect(!line.contains("ghp_s3cr3tT0ken"))
        #expect(!line.contains("Bearer abc"))
        #expect(!line.contains("anything"))
        #expect(line.contains("git.token=[REDACTED]"))
        #expect(line.contains("https://bot:[REDACTED]@git.example.com/env.git"))
    }

    @Test(arguments: ["token", "git.password", "X-Hub-Signature-256", "Authorization", "privateKey", "webhook.secret"])
    func secretKeys(key: String) {
        #expect(Redactor.isSecretKey(key))
    }

    @Test func ordinaryKeysAreKept() {
        #expect(!Redactor.isSecretKey("image.repository"))
        #expect(Redactor.redactURLPasswords("see https://example.com/a@b") == "see https://example.com/a@b")
        #expect(Redactor.redactURLPasswords("ssh://git@host/x") == "ssh://git@host/x")
    }
}

/// Credentials an error text echoes from request headers are masked even when nobody
/// registered them as secrets.
@Suite struct CredentialEchoTests {
    @Test(arguments: [
        ("request failed: Authorization: Bearer ghp_0123456789abcdef", "Authorization: Bearer [REDACTED]"),
        ("headers {Authorization: token ghp_0123456789abcdef}", "Authorization: token [REDACTED]}"),
        ("sent PRIVATE-TOKEN: glpat-Xq7s3cr3t and got 401", "PRIVATE-TOKEN: [REDACTED] and got 401"),
        ("Basic aW1hZ2VidW1wOnNlY3JldA== was refused", "Basic [REDACTED] was refused"),
    ])
    func headerValuesAreMasked(_ text: String, _ expected: String) {
        let redacted = Redactor().redact(text)
        #expect(redacted.contains(expected), "\(redacted)")
        #expect(!redacted.contains("0123456789abcdef") && !redacted.contains("s3cr3t") && !redacted.contains("aW1hZ2Vi"))
    }

    @Test func ordinaryTextIsLeftAlone() {
        #expect(Redactor().redact("the token expired; push rejected") == "the token expired; push rejected")
    }
}
