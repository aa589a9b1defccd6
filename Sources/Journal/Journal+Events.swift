import Events
import Foundation
import ImageReference

/// Where an event is in its life.
public enum EventStatus: String, Sendable, Hashable, CaseIterable {
    case received, committed, done, failed, ignored
    /// Every target's policy refused the tag (outside its range, or older than what it runs).
    case skipped
    /// A newer event for the same image and target took its place before it was written.
    case superseded
}

/// An event as the journal keeps it.
public struct JournalEvent: Sendable, Hashable {
    public let id: String
    public let receivedAt: String
    public let source: String
    public let deliveryID: String?
    public let registry: String
    public let repository: String
    public let tag: String?
    public let digest: String?
    public let status: EventStatus
    public let attempts: Int
    public let lastError: String?
    public let commit: String?
    public let mergeRequestURL: String?
    /// When the sender says the image was pushed (milliseconds since 1970), if it said.
    public var pushedAtMilliseconds: Int64? = nil

    /// What orders this event against others of the same image: the sender's push time, else
    /// when it arrived (an event id is a UUIDv7, whose first 48 bits are that time).
    public var orderMilliseconds: Int64 { pushedAtMilliseconds ?? EventID.milliseconds(id) ?? 0 }
}

extension JournalEvent {
    /// The image event this record was made from (for running it again).
    public var imageEvent: ImageEvent {
        ImageEvent(
            registry: registry, repository: repository, tag: tag, digest: digest.flatMap { try? Digest(parsing: $0) }, source: source,
            deliveryID: deliveryID, pushedAtMilliseconds: pushedAtMilliseconds)
    }
}

/// The journal's events: recording with deduplication, moving them on, reading them back.
extension Journal {

    /// Records an accepted event, durably, unless it repeats one already recorded: the same
    /// delivery id from the same source, or the same image+tag+digest still pending or done
    /// within the deduplication window. Returns the event id and whether it was a repeat.
    /// With `ignoredBecause`, the event is recorded as already ignored (no target takes it), in
    /// the same transaction.
    public func record(_ event: ImageEvent, ignoredBecause: String? = nil, now: Date = Date()) async throws(DatabaseError) -> (
        id: String, duplicate: Bool
    ) {
        let reason = ignoredBecause.map(redact)
        return try await submit { _, statements throws(DatabaseError) in
            try Self.insert(event, ignoredBecause: reason, now: now, statements)
        }
    }

    /// Records several events (see ``record(_:ignoredBecause:now:)``) in one transaction and
    /// calls `completion` on the journal's thread once they are on disk, without a task: the
    /// HTTP server's event loop answers from there.
    public func record(
        _ events: [(event: ImageEvent, ignoredBecause: String?)], now: Date = Date(),
        completion: @escaping @Sendable (Result<[(id: String, duplicate: Bool)], DatabaseError>) -> Void
    ) {
        let redact = self.redact
        enqueue(
            { _, statements throws(DatabaseError) in
                var recorded: [(id: String, duplicate: Bool)] = []
                for item in events {
                    recorded.append(try Self.insert(item.event, ignoredBecause: item.ignoredBecause.map(redact), now: now, statements))
                }
                return recorded
            },
            done: { result in
                completion(
                    result.flatMap { value in
                        guard let recorded = value as? [(id: String, duplicate: Bool)] else {
                            return .failure(DatabaseError(code: -1, operation: "journal", message: "unexpected result type"))
                        }
                        return .success(recorded)
                    })
            })
    }

    private static func insert(
        _ event: ImageEvent, ignoredBecause: String?, now: Date, _ statements: Statements
    ) throws(DatabaseError) -> (id: String, duplicate: Bool) {
        let epoch = Int64(now.timeIntervalSince1970)
        let digest = event.digest?.description
        // On a shared journal the window is this replica's cache: another replica may have ended
        // (failed) or released the event since, so a hit is checked against its row.
        if let existing = statements.recent.existing(event, digest: digest, now: epoch),
            try statements.shared?.stillJoinable(existing) ?? true
        {
            return (existing, true)
        }
        let delivery = RecentEvents.deliveryKey(event, digest: digest)
        if let delivery, let existing = try earlierDelivery(delivery, now: epoch, statements) { return (existing, true) }
        if let shared = statements.shared, let existing = try shared.existing(event, digest: digest, delivery: delivery, now: epoch) {
            return (existing, true)
        }
        let id = EventID.make(now)
        let at = Timestamp.iso8601(now)
        let inserted = try statements.insert.run([
            .text(id), .text(at), .integer(epoch), .text(event.source), SQLValue(event.deliveryID),
            .text(event.registry),
            .text(event.repository), SQLValue(event.tag), SQLValue(digest),
            .text((ignoredBecause == nil ? EventStatus.received : .ignored).rawValue), SQLValue(ignoredBecause),
            event.pushedAtMilliseconds.map { .integer($0) } ?? .null,
        ])
        statements.recent.add(
            id: id, epoch: epoch, image: RecentEvents.imageKey(event, digest: digest), delivery: delivery,
            status: ignoredBecause == nil ? .received : .ignored, rowID: inserted.first?.first?.integer ?? 0)
        // The first steps, "received" and (at intake) "ignored", are the event row itself: no step rows.
        return (id, false)
    }

    /// The event that had this very delivery within the last 30 days (past the in-memory
    /// window), unless it failed or was ignored: the ledger's candidates, each read back and
    /// compared in full.
    private static func earlierDelivery(_ key: RecentEvents.DeliveryKey, now: Int64, _ statements: Statements) throws(DatabaseError)
        -> String?
    {
        for rowID in statements.recent.deliveries.candidates(key, now: now) {
            guard let row = try statements.deliveryRow.run([.integer(rowID)]).first else { continue }
            let found = RecentEvents.DeliveryKey(
                source: row[1].text ?? "", delivery: row[2].text ?? "",
                image: .init(registry: row[3].text ?? "", repository: row[4].text ?? "", tag: row[5].text, digest: row[6].text))
            // A delivery whose event failed, or was ignored (no target then), is worth running again.
            let status = EventStatus(rawValue: row[7].text ?? "") ?? .failed
            if found == key, status != .failed, status != .ignored { return row[0].text }
        }
        return nil
    }

    /// The window's events, newest rows first back to the window's start (rowids grow with
    /// time, so no index is needed), as a restart finds them.
    static func recentEvents(_ database: any SQLDatabase, window: TimeInterval, now: Date = Date()) throws(DatabaseError) -> RecentEvents {
        let recent = RecentEvents(window: window)
        let since = Int64(now.timeIntervalSince1970 - window)
        let rows = try database.prepare(
            "SELECT id, received_epoch, source, delivery_id, registry, repository, tag, digest, status FROM events ORDER BY rowid DESC LIMIT ?"
        ).run([.integer(Int64(recent.limit))])
        for row in rows.reversed() where (row[1].integer ?? 0) >= since {
            let image = RecentEvents.ImageKey(registry: row[4].text ?? "", repository: row[5].text ?? "", tag: row[6].text, digest: row[7].text)
            recent.restore(
                id: row[0].text ?? "", epoch: row[1].integer ?? 0, image: image,
                delivery: row[3].text.map { .init(source: row[2].text ?? "", delivery: $0, image: image) },
                status: EventStatus(rawValue: row[8].text ?? "") ?? .failed)
        }
        // Events let go of (``Statements/release(_:)``): their tag may be sent again.
        for row in try database.prepare("SELECT id FROM events WHERE released = 1 AND received_epoch >= ?").run([.integer(since)]) {
            recent.restoreReleased(row[0].text ?? "")
        }
        // Deliveries of the last 30 days, oldest first, by rowid (rowids grow with time).
        let delivered = try database.prepare(
            "SELECT rowid, received_epoch, source, delivery_id, registry, repository, tag, digest FROM events WHERE delivery_id IS NOT NULL AND received_epoch >= ? ORDER BY rowid"
        ).run([.integer(Int64(now.timeIntervalSince1970) - DeliveryLedger.retention)])
        for row in delivered {
            let image = RecentEvents.ImageKey(registry: row[4].text ?? "", repository: row[5].text ?? "", tag: row[6].text, digest: row[7].text)
            recent.deliveries.add(
                .init(source: row[2].text ?? "", delivery: row[3].text ?? "", image: image), rowID: row[0].integer ?? 0,
                epoch: row[1].integer ?? 0)
        }
        return recent
    }

    /// Moves an event on, recording the step with its detail. `attempt` counts one more try of
    /// its write-back.
    public func update(
        _ id: String, status: EventStatus, detail: String, commit: String? = nil, mergeRequestURL: String? = nil, error: String? = nil,
        attempt: Bool = false
    ) async throws(DatabaseError) {
        let (detail, error) = (redact(detail), error.map(redact))
        _ = try await submit { _, statements throws(DatabaseError) in
            try statements.update.run([
                .text(status.rawValue), SQLValue(error), SQLValue(commit), SQLValue(mergeRequestURL),
                .integer(attempt ? 1 : 0), .text(id),
            ])
            statements.recent.update(id, status: status)
            try statements.step.run([.text(id), .text(Timestamp.iso8601(Date())), .text(status.rawValue), .text(detail)])
            return true
        }
    }

    /// Counts one more try of these events' write-back; `retrying` records the error it will
    /// be tried again after.
    public func countAttempt(_ ids: [String], retrying error: String? = nil) async throws(DatabaseError) {
        let error = error.map(redact)
        _ = try await submit { _, statements throws(DatabaseError) in
            for id in ids {
                try statements.attempt.run([SQLValue(error), .text(id)])
                if let error {
                    try statements.step.run([.text(id), .text(Timestamp.iso8601(Date())), .text("retrying"), .text(error)])
                }
            }
            return true
        }
    }

    /// Writes (and syncs) a heartbeat row: proof that the journal can still accept events.
    public func checkWritable(now: Date = Date()) async throws(DatabaseError) {
        _ = try await submit { database, _ throws(DatabaseError) in
            try database.execute("INSERT INTO meta (key, value) VALUES ('heartbeat', '\(Timestamp.iso8601(now))') ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            return true
        }
    }

    public func event(_ id: String) async throws(DatabaseError) -> JournalEvent? {
        try await submit { _, statements throws(DatabaseError) in try statements.byID.run([.text(id)]).first.map(Self.event) }
    }

    /// The newest events first, filtered by status and/or image (`registry/repository`).
    public func list(status: EventStatus? = nil, image: String? = nil, limit: Int = 50) async throws(DatabaseError) -> [JournalEvent] {
        try await submit { _, statements throws(DatabaseError) in
            try statements.list.run([SQLValue(status?.rawValue), SQLValue(image), .integer(Int64(max(1, min(limit, 1000))))]).map(
                Self.event)
        }
    }

    /// Events accepted but not finished (received, or committed to some targets only), oldest
    /// first: what a restart must run again.
    public func unfinished(limit: Int = 10_000) async throws(DatabaseError) -> [JournalEvent] {
        try await submit { _, statements throws(DatabaseError) in try statements.unfinished.run([.integer(Int64(limit))]).map(Self.event) }
    }

    /// The steps of an event, oldest first: (time, step, detail).
    public func steps(_ id: String) async throws(DatabaseError) -> [(String, String, String)] {
        try await submit { _, statements throws(DatabaseError) in
            guard let row = try statements.intakeSteps.run([.text(id)]).first, let at = row[0].text else { return [] }
            var steps = [(at, EventStatus.received.rawValue, "from \(row[1].text ?? "")")]
            if let reason = row[2].text { steps.append((at, EventStatus.ignored.rawValue, reason)) }
            return steps + (try statements.steps.run([.text(id)]).map { ($0[0].text ?? "", $0[1].text ?? "", $0[2].text ?? "") })
        }
    }

    static func event(_ row: [SQLValue]) -> JournalEvent {
        JournalEvent(
            id: row[0].text ?? "", receivedAt: row[1].text ?? "", source: row[2].text ?? "", deliveryID: row[3].text,
            registry: row[4].text ?? "",
            repository: row[5].text ?? "", tag: row[6].text, digest: row[7].text,
            status: EventStatus(rawValue: row[8].text ?? "") ?? .failed,
            attempts: Int(row[9].integer ?? 0), lastError: row[10].text, commit: row[11].text, mergeRequestURL: row[12].text,
            pushedAtMilliseconds: row[13].integer)
    }
}

/// The journal's prepared statements (owned by the writer thread).
package final class Statements {
    /// Lets an event go from the deduplication window, now and after a restart: its image and
    /// tag sent again are a new event (its promotion failed or was cancelled; sending the tag
    /// again is how a release starts over). Its delivery id still recognises a replay.
    package func release(_ eventID: String) throws(DatabaseError) {
        try database.prepare("UPDATE events SET released = 1 WHERE id = ?").run([.text(eventID)])
        recent.release(eventID)
    }

    static let columns =
        "id, received_at, source, delivery_id, registry, repository, tag, digest, status, attempts, last_error, commit_id, merge_request_url, pushed_ms"
    let insert, byID, update, attempt, step, steps, intakeSteps, list, unfinished, deliveryRow: any SQLStatement
    let database: any SQLDatabase
    /// On a database several replicas share: what the other replicas recorded (nil on SQLite,
    /// whose file one process holds).
    let shared: SharedDeduplication?
    /// The deduplication window's events (the writer thread's, like the statements).
    let recent: RecentEvents

    init(_ database: any SQLDatabase, recent: RecentEvents) throws(DatabaseError) {
        self.recent = recent
        self.database = database
        shared = database.dialect == .postgres ? try SharedDeduplication(database, window: recent.window) : nil
        insert = try database.prepare(
            "INSERT INTO events (id, received_at, received_epoch, source, delivery_id, registry, repository, tag, digest, status, ignored_reason, pushed_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING rowid"
        )
        deliveryRow = try database.prepare(
            "SELECT id, source, delivery_id, registry, repository, tag, digest, status FROM events WHERE rowid = ?")
        byID = try database.prepare("SELECT \(Self.columns) FROM events WHERE id = ?")
        update = try database.prepare(
            "UPDATE events SET status = ?, last_error = COALESCE(?, last_error), commit_id = COALESCE(?, commit_id), merge_request_url = COALESCE(?, merge_request_url), attempts = attempts + ? WHERE id = ?"
        )
        attempt = try database.prepare("UPDATE events SET attempts = attempts + 1, last_error = COALESCE(?, last_error) WHERE id = ?")
        unfinished = try database.prepare(
            "SELECT \(Self.columns) FROM events WHERE status IN ('received','committed') ORDER BY received_epoch, rowid LIMIT ?")
        step = try database.prepare("INSERT INTO event_steps (event_id, at, step, detail) VALUES (?,?,?,?)")
        intakeSteps = try database.prepare("SELECT received_at, source, ignored_reason FROM events WHERE id = ?")
        steps = try database.prepare("SELECT at, step, detail FROM event_steps WHERE event_id = ? ORDER BY rowid")
        list = try database.prepare(
            "SELECT \(Self.columns) FROM events WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1) AND (CAST(?2 AS TEXT) IS NULL OR registry || '/' || repository = ?2) ORDER BY received_epoch DESC, rowid DESC LIMIT ?3"
        )
    }
}
