import Catchup
import Events
import Journal
import TestSupport
import Testing

/// What polling asks the journal of a tag, on both journals.
@Suite struct CatchupStoreTests {
    static func event(_ tag: String, source: String) -> ImageEvent {
        ImageEvent(registry: "ghcr.io", repository: "acme/api", tag: tag, digest: nil, source: source, deliveryID: nil)
    }

    static func history(_ history: Journal.TagHistory) -> String { "\(history.known) \(history.failedPolls)" }

    @Test(arguments: JournalBackend.allCases)
    func aTagIsKnownUnlessItsEventsFailedAndFailedPollsAreCounted(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        #expect(Self.history(try await journal.tagHistory(registry: "ghcr.io", repository: "acme/api", tag: "1.0.0")) == "false 0")
        let polled = try await journal.record(Self.event("1.0.0", source: "poll"))
        try await journal.update(polled.id, status: .failed, detail: "push rejected")
        let again = try await journal.record(Self.event("1.0.0", source: "poll"))
        try await journal.update(again.id, status: .failed, detail: "push rejected")
        #expect(Self.history(try await journal.tagHistory(registry: "ghcr.io", repository: "acme/api", tag: "1.0.0")) == "false 2")
        let webhook = try await journal.record(Self.event("1.0.0", source: "github"))
        #expect(!webhook.duplicate)
        #expect(Self.history(try await journal.tagHistory(registry: "ghcr.io", repository: "acme/api", tag: "1.0.0")) == "true 2")
    }
}
