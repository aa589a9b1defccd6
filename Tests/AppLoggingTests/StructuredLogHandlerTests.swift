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
