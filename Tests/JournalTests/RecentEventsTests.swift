import Synchronization
import Events
import Foundation
import TestSupport
import Testing

@testable import Journal

/// Deduplication from the in-memory window: joins, what is not joined, the bound, and a restart.
@Suite struct RecentEventsTests {
    @Test(arguments: JournalBackend.allCases)
    func aFailedOrIgnoredEventIsNotJoinedByARepeat(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
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

    @Test(arguments: JournalBackend.allCases)
    func aRestartRemembersTheWindow(backend: JournalBackend) async throws {
        let path = try await backend.freshLocation()
        let journal = try Journal(testing: path)
        let first = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-1"))
        let old = try await journal.record(try JournalTests.event("1.3.0", delivery: "d-0"), now: Date().addingTimeInterval(-3600))
        journal.close()

        let reopened = try Journal(testing: path)
        defer { reopened.close() }
        #expect(try await reopened.record(try JournalTests.event("1.4.2")).id == first.id)
        #expect(try await reopened.record(try JournalTests.event("1.4.2", delivery: "d-1")).id == first.id)
        // An hour old: the same delivery is remembered for 30 days, across the restart...
        let replay = try await reopened.record(try JournalTests.event("1.3.0", delivery: "d-0"))
        #expect(replay.duplicate)
        #expect(replay.id == old.id)
        // ...while the same image+tag without it is past the ten-minute window: new work again.
        let late = try await reopened.record(try JournalTests.event("1.3.0"))
        #expect(!late.duplicate)
        #expect(late.id != old.id)
    }

    @Test(arguments: JournalBackend.allCases)
    func aDeliveryIsRecognisedForThirtyDays(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        let start = Date()
        let first = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-7"), now: start)
        for days in [0.01, 1, 7, 29.9] {
            let replay = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-7"), now: start.addingTimeInterval(days * 86_400))
            #expect(replay.duplicate, "a replay \(days) days later")
            #expect(replay.id == first.id)
        }
        let tooLate = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-7"), now: start.addingTimeInterval(31 * 86_400))
        #expect(!tooLate.duplicate)
    }

    @Test(arguments: JournalBackend.allCases)
    func aFailedCommitLeavesTheWindowAsItWas(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        journal.failingCommits.store(1, ordering: .relaxed)
        await #expect(throws: DatabaseError.self) { _ = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-9")) }
        // The sender retries: a new event, durable this time — not a "duplicate" of nothing.
        let retry = try await journal.record(try JournalTests.event("1.4.2", delivery: "d-9"))
        #expect(!retry.duplicate)
        #expect(try await journal.event(retry.id)?.status == .received)
        #expect(try await journal.record(try JournalTests.event("1.4.2", delivery: "d-9")).id == retry.id)
    }

    @Test(arguments: JournalBackend.allCases)
    func aJobThatFailsHalfwayTakesBackWhatItWrote(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        struct Halfway: Error {}
        // One job records an event, then fails; another, in the same group commit, succeeds.
        let failing = Task { () async throws(DatabaseError) -> Bool in try await journal.submit { database, statements throws(DatabaseError) -> Bool in
            try database.execute("INSERT INTO meta (key, value) VALUES ('half', 'way')")
            _ = try statements.insert.run([
                .text("evt-half"), .text("t"), .integer(1), .text("generic"), .null, .text("ghcr.io"), .text("acme/api"),
                .text("1.4.2"), .null, .text("received"), .null, .null,
            ])
            statements.recent.add(
                id: "evt-half", epoch: Int64(Date().timeIntervalSince1970),
                image: .init(registry: "ghcr.io", repository: "acme/api", tag: "1.4.2", digest: nil), delivery: nil, status: .received)
            throw DatabaseError(code: 19, operation: "test", message: "fails halfway")
        } }
        let succeeding = try await journal.record(try JournalTests.event("1.4.3"))
        await #expect(throws: DatabaseError.self) { _ = try await failing.value }
        #expect(!succeeding.duplicate)
        #expect(try await journal.event("evt-half") == nil)
        let meta = try await journal.submit { database, _ throws(DatabaseError) in
            try database.prepare("SELECT count(*) FROM meta WHERE key = 'half'").run([]).first?.first?.integer ?? -1
        }
        #expect(meta == 0)
        // Nor is the window left holding it.
        #expect(!(try await journal.record(try JournalTests.event("1.4.2"))).duplicate)
    }

    @Test func theOldestGoFirstPastTheBound() throws {
        let recent = RecentEvents(window: 600, limit: 3)
        func event(_ tag: String) throws -> ImageEvent { try JournalTests.event(tag) }
        for (index, tag) in ["1", "2", "3", "4", "5"].enumerated() {
            let image = RecentEvents.ImageKey(registry: "ghcr.io", repository: "acme/api", tag: tag, digest: nil)
            recent.add(id: "e\(index)", epoch: 1000, image: image, delivery: nil, status: .received)
        }
        recent.commit()
        #expect(recent.count == 3)
        #expect(recent.existing(try event("1"), digest: nil, now: 1000) == nil)
        #expect(recent.existing(try event("2"), digest: nil, now: 1000) == nil)
        #expect(recent.existing(try event("3"), digest: nil, now: 1000) == "e2")
        #expect(recent.existing(try event("5"), digest: nil, now: 1000) == "e4")
        #expect(recent.existing(try event("5"), digest: nil, now: 1000 + 601) == nil)  // the window passed
        #expect(recent.count == 0)
    }
}
