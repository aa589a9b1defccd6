import Events
import Foundation
import TestSupport
import Testing

@testable import Journal

/// Deduplication from the in-memory window: joins, what is not joined, the bound, and a restart.
@Suite struct RecentEventsTests {
    @Test func aFailedOrIgnoredEventIsNotJoinedByARepeat() async throws {
        let journal = try Journal(path: try JournalTests.path())
        defer { journal.close() }
        let first = try await journal.record(try JournalTests.event("1.4.2"))
        try await journal.update(first.id, status: .failed, detail: "push rejected")
        let again = try await journal.record(try JournalTests.event("1.4.2"))
        #expect(!again.duplicate)  // a failure is worth trying again
        try await journal.update(again.id, status: .done, detail: "pushed")
        #expect(try await journal.record(try JournalTests.event("1.4.2")).id == again.id)  // done: joined

        _ = try await journal.record(try JournalTests.event("2.0.0"), ignoredBecause: "no target")
        #expect(!(try await journal.record(try JournalTests.event("2.0.0"))).duplicate)
    }

    @Test func aRestartRemembersTheWindow() async throws {
        let path = try JournalTests.path()
        let journal = try Journal(path: path)
        let first = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-1"))
        let old = try await journal.record(try JournalTests.event("1.3.0", delivery: "d-0"), now: Date().addingTimeInterval(-3600))
        journal.close()

        let reopened = try Journal(path: path)
        defer { reopened.close() }
        #expect(try await reopened.record(try JournalTests.event("1.4.2")).id == first.id)
        #expect(try await reopened.record(try JournalTests.event("7.7.7", delivery: "d-1")).id == first.id)
        // An hour old: outside the ten-minute window, new work again (delivery ids too).
        let late = try await reopened.record(try JournalTests.event("1.3.0", delivery: "d-0"))
        #expect(!late.duplicate)
        #expect(late.id != old.id)
    }

    @Test func theOldestGoFirstPastTheBound() throws {
        let recent = RecentEvents(window: 600, limit: 3)
        func event(_ tag: String) throws -> ImageEvent { try JournalTests.event(tag) }
        for (index, tag) in ["1", "2", "3", "4", "5"].enumerated() {
            let image = RecentEvents.ImageKey(registry: "ghcr.io", repository: "acme/api", tag: tag, digest: nil)
            recent.add(id: "e\(index)", epoch: 1000, image: image, delivery: nil, status: .received)
        }
        #expect(recent.count == 3)
        #expect(recent.existing(try event("1"), digest: nil, now: 1000) == nil)
        #expect(recent.existing(try event("2"), digest: nil, now: 1000) == nil)
        #expect(recent.existing(try event("3"), digest: nil, now: 1000) == "e2")
        #expect(recent.existing(try event("5"), digest: nil, now: 1000) == "e4")
        #expect(recent.existing(try event("5"), digest: nil, now: 1000 + 601) == nil)  // the window passed
        #expect(recent.count == 0)
    }
}
