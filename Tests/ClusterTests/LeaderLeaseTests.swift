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

    @Test func oneHolderAtATimeAndATakeoverOnlyAfterTheLeaseRanOut() async throws {
        let location = try await JournalBackend.postgres.freshLocation()
        let (first, second) = (try Journal(testing: location), try Journal(testing: location))
        defer {
            first.close()
            second.close()
        }
        let ttl = Duration.seconds(4)
        let a = LeaderLease(journal: first, holder: "a", ttl: ttl, logger: Self.logger)
        let b = LeaderLease(journal: second, holder: "b", ttl: ttl, logger: Self.logger)
        #expect(try await a.tryAcquire())
        let firstToken = try #require(a.token)
        #expect(try await a.tryAcquire(), "the holder renews")
        #expect(a.token == firstToken, "a renewal keeps the token")
        #expect(!(try await b.tryAcquire()), "taken while renewed")
        #expect(await a.stillHeld())
        // The fence waits for the database: from a thread of its own, as a push calls it.
        await #expect(throws: Never.self) { try await blocking { try a.fence() } }

        // `a` stops renewing (paused, partitioned): `b` asks until the lease ran out in the
        // database's clock, then holds it with the next token.
        let asked = ContinuousClock.now
        var attempts = 0
        while !(try await b.tryAcquire()) {
            attempts += 1
            try #require(ContinuousClock.now - asked < .seconds(30), "no takeover after \(attempts) attempts")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(b.token == firstToken + 1)
        #expect(attempts > 0, "the lease was still a's when b first asked")
        // The old holder's fence refuses, whatever its own clock thinks.
        #expect(!(await a.stillHeld()))
        await #expect(throws: LeaseLost.self) { try await blocking { try a.fence() } }
        #expect(!(try await a.tryAcquire()), "b renews nothing yet but holds an unexpired lease")
        #expect(await b.stillHeld())
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
