import Synchronization
import Foundation
import HTTPClient
import TestSupport
import Testing

@testable import Journal

/// A journal that cannot write answers 503 with a clear error and nothing of SQLite's own
/// message (a stranger learns nothing of the service's insides); the sender's retry is new work.
@Suite struct JournalFailureTests {
    @Test func a503SaysWhatToDoAndNothingMore() async throws {
        let service = try IntakeEndToEndTests.Service()
        service.journal.failingCommits.store(1, ordering: .relaxed)
        let body = #"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#
        let refused = try await service.post("/v1/events", body)
        #expect(refused.status == 503)
        let text = String(decoding: refused.body, as: UTF8.self)
        #expect(text.contains("\"error\":\"journal unavailable\""), "\(text)")
        #expect(!text.contains("SQLite") && !text.contains("injected") && !text.contains("disk I/O"), "\(text)")
        let retried = try await service.post("/v1/events", body)
        #expect(retried.status == 202)
        #expect(String(decoding: retried.body, as: UTF8.self).contains("\"duplicate\":false"))
    }
}
