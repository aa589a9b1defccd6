import Events
import Foundation
import Synchronization
import ImageReference
import TestSupport
import Testing

@testable import Journal

@Suite struct JournalTests {
    static func event(_ tag: String, delivery: String? = nil, source: String = "generic") throws -> ImageEvent {
        let body = #"{"image": "ghcr.io/acme/api", "tag": "\#(tag)"}"#
        guard
            case .accepted(let events) = try DeliveryDecoder.decode(
                .generic, headers: [:], body: Array(body.utf8))
        else {
            throw GitFixture.Failure(description: "not accepted")
        }
        // A delivery id as a sender that has one (GitHub, Gitea, an envelope's event ids) gives it.
        return ImageEvent(
            registry: events[0].registry, repository: events[0].repository, tag: events[0].tag, digest: events[0].digest,
            source: source, deliveryID: delivery)
    }

    static func path() throws -> String { try TemporaryDirectory.make("imagebump-journal").appendingPathComponent("journal.sqlite").path }

    /// The journal's own database at a fresh location of `backend`.
    static func database(_ backend: JournalBackend) async throws -> any SQLDatabase {
        switch try await backend.freshLocation() {
        case .sqlite(let path): try SQLiteDatabase(path: path)
        case .postgres(let url, let password): try PostgresDatabase(url: url, password: password)
        }
    }

    @Test(arguments: JournalBackend.allCases)
    func aFeaturesMigrationsRunOnceEachInOrderAndTheirVersionIsKept(backend: JournalBackend) async throws {
        let runs = Mutex<[Int]>([])
        func schema(_ count: Int) -> JournalSchema {
            JournalSchema(
                feature: "counting",
                migrations: (1...count).map { number in { _ in runs.withLock { $0.append(number) } } })
        }
        let database = try await Self.database(backend)
        #expect(try JournalSchema.migrate([Journal.eventSchema, schema(2)], in: database) == ["events": 2, "counting": 2])
        #expect(try JournalSchema.migrate([Journal.eventSchema, schema(2)], in: database) == ["events": 2, "counting": 2])
        #expect(try JournalSchema.migrate([Journal.eventSchema, schema(3)], in: database) == ["events": 2, "counting": 3])
        #expect(runs.withLock { $0 } == [1, 2, 3])
        let versions = try database.prepare("SELECT feature, version FROM schema_versions ORDER BY feature").run([])
        #expect(versions.map { "\($0[0].text ?? "") \($0[1].integer ?? 0)" } == ["counting 3", "events 2"])
        // A migration that fails takes back what it did and records nothing.
        let failing = JournalSchema(
            feature: "failing",
            migrations: [{ database in
                try database.execute("CREATE TABLE half (x TEXT)")
                try database.execute("NOT SQL")
            }])
        #expect(throws: DatabaseError.self) { try JournalSchema.migrate([failing], in: database) }
        let tables = backend == .sqlite ? "SELECT 1 FROM sqlite_master WHERE name = 'half'" : "SELECT 1 FROM information_schema.tables WHERE table_name = 'half'"
        #expect(try database.prepare(tables).run([]).isEmpty)
        #expect(try database.prepare("SELECT 1 FROM schema_versions WHERE feature = 'failing'").run([]).isEmpty)
    }

    @Test(arguments: JournalBackend.allCases)
    func recordedEventsSurviveReopening(backend: JournalBackend) async throws {
        let path = try await backend.freshLocation()
        let journal = try Journal(testing: path)
        let (id, duplicate) = try await journal.record(try Self.event("1.4.2"))
        #expect(!duplicate)
        journal.close()

        let reopened = try Journal(testing: path)
        let stored = try #require(try await reopened.event(id))
        #expect(stored.registry == "ghcr.io")
        #expect(stored.repository == "acme/api")
        #expect(stored.tag == "1.4.2")
        #expect(stored.status == .received)
        // Durable before the 202 is proven where it can break: CrashRecoveryTests kills the
        // serving process (SIGKILL) right after its 202s and finds every accepted event again.
    }

    @Test(arguments: JournalBackend.allCases)
    func repeatsJoinTheExistingEvent(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        let first = try await journal.record(try Self.event("1.4.2", delivery: "d-1"))
        let sameDelivery = try await journal.record(try Self.event("1.4.2", delivery: "d-1"))
        #expect(sameDelivery.duplicate)
        #expect(sameDelivery.id == first.id)
        // A delivery id names an event only together with its image, tag and digest: one
        // delivery (an envelope, Quay's updated_tags) may carry several events.
        let otherEventOfTheDelivery = try await journal.record(try Self.event("9.9.9", delivery: "d-1"))
        #expect(!otherEventOfTheDelivery.duplicate)

        let sameImage = try await journal.record(try Self.event("1.4.2", delivery: "d-2"))
        #expect(sameImage.duplicate)
        #expect(sameImage.id == first.id)

        let other = try await journal.record(try Self.event("1.4.3"))
        #expect(!other.duplicate)

        // Outside the window, or after a failure, the same image+tag is new work again.
        let later = try await journal.record(try Self.event("1.4.2"), now: Date().addingTimeInterval(3600))
        #expect(!later.duplicate)
    }

    @Test(arguments: JournalBackend.allCases)
    func concurrentRecordsShareCommits(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<200 { group.addTask { try await journal.record(try Self.event("1.0.\(index)")).id } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 200)
        #expect(journal.commitCount < 200, "group commit should batch concurrent writes (\(journal.commitCount) commits)")
        #expect(try await journal.list(limit: 1000).count == 200)
    }

    @Test(arguments: JournalBackend.allCases)
    func stepsAndStatusAreKept(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        let (id, _) = try await journal.record(try Self.event("1.4.2"))
        try await journal.update(id, status: .committed, detail: "pushed to main", commit: "abc123")
        try await journal.update(id, status: .done, detail: "merge request #1", mergeRequestURL: "https://github.com/acme/env/pull/1")
        let event = try #require(try await journal.event(id))
        #expect(event.status == .done)
        #expect(event.commit == "abc123")
        #expect(event.mergeRequestURL == "https://github.com/acme/env/pull/1")
        #expect(try await journal.steps(id).map(\.1) == ["received", "committed", "done"])
        #expect(try await journal.list(status: .done, image: "ghcr.io/acme/api").map(\.id) == [id])
        #expect(try await journal.list(status: .failed).isEmpty)
    }

    @Test func anUnwritablePathIsAClearError() {
        #expect(throws: DatabaseError.self) { try Journal(testing: "/nonexistent/dir/journal.sqlite") }
    }
}

@Suite struct TimestampTests {
    @Test func formatsLikeISO8601DateFormatter() {
        for seconds in [0.0, 1_700_000_007.9, 1_795_000_000, 951_782_400] {  // including 2000-02-29
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamp.iso8601(date) == ISO8601DateFormatter().string(from: date))
        }
    }
}

@Suite struct EventIDTests {
    @Test func idsAreVersion7UUIDsInTimeOrder() throws {
        let first = EventID.make(Date(timeIntervalSince1970: 1_763_884_800))
        let second = EventID.make(Date(timeIntervalSince1970: 1_763_884_800.002))
        #expect(first.count == 36)
        #expect(first < second)
        #expect(first.hasPrefix("019aafba-1800-7"))  // 1763884800000 ms = 0x019aafba1800
        let parts = first.split(separator: "-").map(\.count)
        #expect(parts == [8, 4, 4, 4, 12])
        #expect("89ab".contains(first[first.index(first.startIndex, offsetBy: 19)]))
        #expect(UUID(uuidString: first) != nil)
    }
}
