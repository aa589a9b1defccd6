import Cluster
import Foundation
import Journal
import Logging
import TestSupport
import Testing

/// The leader lease on a real PostgreSQL journal: one holder at a time, a takeover only after
/// the holder stopped renewing for the lease's time, a new fencing token each time it changes
/// hands, and a fence that refuses the old holder.
@Suite struct LeaderLeaseTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Who holds the lease and with which token, as the database says (a replica's own view also
    /// depends on how soon it got the answer).
    static func lease(_ journal: Journal) async throws -> String {
        try await journal.submitAlone { database throws(DatabaseError) in
            let row = try database.prepare("SELECT holder, token FROM leases WHERE name = 'leader'").run([]).first
            return "\(row?[0].text ?? "-") \(row?[1].integer ?? 0)"
        }
    }

    /// Two replicas on one journal, each with its own connection.
    static func replicas(ttl: Duration) async throws -> (Journal, Journal, LeaderLease, LeaderLease) {
        let location = try await JournalBackend.postgres.freshLocation()
        let (first, second) = (try Journal(testing: location), try Journal(testing: location))
        return (
            first, second, LeaderLease(journal: first, holder: "a", ttl: ttl, logger: logger),
            LeaderLease(journal: second, holder: "b", ttl: ttl, logger: logger)
        )
    }

    @Test func aHeldLeaseIsRenewedWithItsTokenAndFencesOthersOut() async throws {
        // Long enough that no test machine's delay lets it run out here.
        let (first, second, a, b) = try await Self.replicas(ttl: .seconds(120))
        defer {
            first.close()
            second.close()
        }
        #expect(try await a.tryAcquire())
        #expect(try await Self.lease(first) == "a 1")
        #expect(try await a.tryAcquire(), "the holder renews")
        #expect(try await Self.lease(first) == "a 1", "a renewal keeps the token")
        #expect(!(try await b.tryAcquire()), "held by a")
        #expect(await a.stillHeld())
        #expect(!(await b.stillHeld()))
        // The fence waits for the database: from a thread of its own, as a push calls it.
        await #expect(throws: Never.self) { try await blocking { try a.fence() } }
        await #expect(throws: LeaseLost.self) { try await blocking { try b.fence() } }
    }

    @Test func aLeaseNobodyRenewsPassesWithTheNextTokenAndTheOldHoldersFenceRefuses() async throws {
        let (first, second, a, b) = try await Self.replicas(ttl: .seconds(1))
        defer {
            first.close()
            second.close()
        }
        #expect(try await a.tryAcquire())
        // `a` stops renewing (paused, partitioned): `b` asks until the lease ran out in the
        // database's clock, then holds it with the next token.
        let asked = ContinuousClock.now
        while !(try await b.tryAcquire()) {
            try #require(ContinuousClock.now - asked < .seconds(60), "no takeover")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await Self.lease(first) == "b 2")
        // The old holder's fence refuses: the database names another holder and token.
        #expect(!(await a.stillHeld()))
        await #expect(throws: LeaseLost.self) { try await blocking { try a.fence() } }
    }

    @Test func aHolderThatCannotRenewIsToldOnce() async throws {
        let location = try await JournalBackend.postgres.freshLocation()
        let (first, second) = (try Journal(testing: location), try Journal(testing: location))
        defer { second.close() }
        let a = LeaderLease(journal: first, holder: "a", ttl: .seconds(1), logger: Self.logger)
        let b = LeaderLease(journal: second, holder: "b", ttl: .seconds(1), logger: Self.logger)
        let lost = AsyncStream<Void>.makeStream()
        let renewing = try #require(await a.lead(lost: { lost.continuation.yield() }))
        defer { renewing.cancel() }
        // Its journal goes away (as a database that cannot be reached): renewals fail; b takes over.
        first.close()
        let taken = Task {
            while !(try await b.tryAcquire()) { try await Task.sleep(for: .milliseconds(100)) }
        }
        var told = 0
        for await _ in lost.stream {
            told += 1
            break
        }
        try await taken.value  // b holds it
        #expect(told == 1)
        #expect(!a.isLeader)
    }
}
