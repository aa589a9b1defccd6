import Events
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Journal

/// Two replicas on one PostgreSQL journal (two `Journal`s, each with its own connection and
/// window): a repeat is recognised whichever replica recorded the first, even at the same moment.
@Suite struct SharedJournalTests {
    @Test func aRepeatOnAnotherReplicaJoinsTheFirstEvent() async throws {
        let location = try await JournalBackend.postgres.freshLocation()
        let first = try Journal(testing: location)
        let second = try Journal(testing: location)
        defer {
            first.close()
            second.close()
        }
        let original = try await first.record(try JournalTests.event("1.4.2", delivery: "d-1", source: "github"))
        #expect(!original.duplicate)
        let replay = try await second.record(try JournalTests.event("1.4.2", delivery: "d-1", source: "github"))
        #expect(replay.duplicate)
        #expect(replay.id == original.id)
        let sameTag = try await second.record(try JournalTests.event("1.4.2"))
        #expect(sameTag.id == original.id)
        // A failed event is worth running again, on either replica.
        try await first.update(original.id, status: .failed, detail: "push rejected")
        #expect(!(try await second.record(try JournalTests.event("1.4.2"))).duplicate)
    }

    /// The window is a cache: an event another replica failed since is not joined by a repeat.
    @Test func aRepeatOfAnEventAnotherReplicaFailedIsNewWork() async throws {
        let location = try await JournalBackend.postgres.freshLocation()
        let (follower, holder) = (try Journal(testing: location), try Journal(testing: location))
        defer {
            follower.close()
            holder.close()
        }
        let first = try await follower.record(try JournalTests.event("5.0.0"))
        #expect(try await follower.record(try JournalTests.event("5.0.0")).id == first.id)  // pending: joined
        try await holder.update(first.id, status: .failed, detail: "push rejected")
        let again = try await follower.record(try JournalTests.event("5.0.0"))
        #expect(!again.duplicate, "the follower's window still thought the failed event pending")
    }

    @Test func concurrentRecordsOnTwoReplicasMakeOneEvent() async throws {
        let location = try await JournalBackend.postgres.freshLocation()
        let replicas = [try Journal(testing: location), try Journal(testing: location)]
        defer { for replica in replicas { replica.close() } }
        let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let outcome = try await replicas[index % 2].record(try JournalTests.event("2.0.0", delivery: "d-\(index % 4)", source: "github"))
                    return (outcome.id, outcome.duplicate)
                }
            }
            return try await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
        }
        #expect(Set(results.map(\.0)).count == 1, "every repeat names the one event: \(Set(results.map(\.0)))")
        #expect(results.filter { !$0.1 }.count == 1)
        #expect(try await replicas[0].list(limit: 100).count == 1)
    }

    /// The same pushes reaching two replicas in opposite orders (a fan-out, retries): their group
    /// commits must not deadlock each other, and each push is one event.
    @Test func theSamePushesInOppositeOrdersOnTwoReplicasNeitherDeadlockNorDuplicate() async throws {
        let location = try await JournalBackend.postgres.freshLocation()
        let replicas = [try Journal(testing: location), try Journal(testing: location)]
        defer { for replica in replicas { replica.close() } }
        let tags = (0..<60).map { "3.1.\($0)" }
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, order) in [tags, tags.reversed()].enumerated() {
                for tag in order {
                    group.addTask {
                        do {
                            _ = try await replicas[index].record(try JournalTests.event(tag, delivery: "d-\(tag)", source: "github"))
                            return 0
                        } catch { return 1 }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0, "records refused (a deadlock aborts a whole group commit)")
        #expect(try await replicas[0].list(limit: 1000).count == tags.count)
    }
}

/// Replicas that start together on a new database migrate it once, one after the other.
@Suite struct SharedMigrationTests {
    @Test func threeReplicasStartingTogetherMigrateOnce() async throws {
        guard case .postgres(let url, let password) = try await JournalBackend.postgres.freshLocation() else { return }
        let runs = Mutex<Int>(0)
        let counting = JournalSchema(
            feature: "counting",
            migrations: [{ database in
                runs.withLock { $0 += 1 }
                try database.execute("CREATE TABLE counted (x TEXT)")  // fails if run twice
            }])
        let reached = try await withThrowingTaskGroup(of: [String: Int].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await blocking {
                        let database = try PostgresDatabase(url: url, password: password)
                        return try JournalSchema.migrate([Journal.eventSchema, counting], in: database)
                    }
                }
            }
            return try await group.reduce(into: [[String: Int]]()) { $0.append($1) }
        }
        #expect(reached.count == 3)
        #expect(reached.allSatisfy { $0 == ["events": 2, "counting": 1] }, "\(reached)")
        #expect(runs.withLock { $0 } == 1)
    }
}
