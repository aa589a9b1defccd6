import AppLogging
import Events
import Foundation
import TestSupport
import Testing

@testable import Journal

/// Everything the journal stores goes through the logs' redaction: an error that echoes a
/// forge token never reaches `last_error`, the steps or the status API.
@Suite struct RedactionTests {
    @Test(arguments: JournalBackend.allCases)
    func errorsAndStepsAreRedactedBeforeTheyAreStored(backend: JournalBackend) async throws {
        let token = "ghp_T3stT0ken0123456789"
        let redactor = Redactor(secrets: [token])
        let journal = try Journal(testing: try await backend.freshLocation(), redact: { redactor.redact($0) })
        defer { journal.close() }
        let (id, _) = try await journal.record(try JournalTests.event("1.4.2"))
        let echo = "POST https://api.github.com/repos/acme/env/pulls failed (HTTP 422): headers Authorization: token \(token)"
        try await journal.countAttempt([id], retrying: echo)
        try await journal.update(id, status: .failed, detail: echo, error: echo)
        let event = try #require(try await journal.event(id))
        #expect(event.lastError?.contains(token) == false)
        #expect(event.lastError?.contains("[REDACTED]") == true)
        let steps = try await journal.steps(id)
        #expect(steps.allSatisfy { !$0.2.contains(token) })
        #expect(steps.count == 3)
    }
}
