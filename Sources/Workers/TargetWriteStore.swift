import Foundation
import Journal

/// What each target was last written with, per image: the event, its order (the sender's
/// push time, else its arrival) and the tag. A late or replayed delivery older than that write is skipped
/// instead of moving the target back, whatever its tag says.
extension Journal {
    static let targetWriteTables = """
        CREATE TABLE IF NOT EXISTS target_writes (
          target TEXT NOT NULL, image TEXT NOT NULL, event_id TEXT NOT NULL, order_ms INTEGER NOT NULL, written_at TEXT NOT NULL,
          tag TEXT, PRIMARY KEY (target, image));
        CREATE TABLE IF NOT EXISTS deployments (
          target TEXT NOT NULL, image TEXT NOT NULL, tag TEXT NOT NULL, since TEXT NOT NULL, via TEXT NOT NULL, PRIMARY KEY (target, image));
        """

    /// The last write of `image` to `target`: the event and its order.
    public func lastWrite(target: String, image: String) async throws(DatabaseError) -> (
        eventID: String, orderMilliseconds: Int64, tag: String?
    )? {
        try await submit { database, _ throws(DatabaseError) in
            try database.prepare("SELECT event_id, order_ms, tag FROM target_writes WHERE target = ? AND image = ?").run([
                .text(target), .text(image),
            ]).first.map { ($0[0].text ?? "", $0[1].integer ?? 0, $0[2].text) }
        }
    }

    /// Notes that `eventID` wrote `image` to `target`; an older order never replaces a newer one.
    /// With `deployedVia` (a commit target's write), the target runs the tag now: the
    /// deployment is recorded in the same transaction.
    public func recordWrite(
        target: String, image: String, eventID: String, orderMilliseconds: Int64, tag: String? = nil, deployedVia: String? = nil,
        now: Date = Date()
    ) async throws(DatabaseError) {
        _ = try await submit { database, _ throws(DatabaseError) in
            if let deployedVia, let tag {
                try Self.upsertDeployment(database, target: target, image: image, tag: tag, via: deployedVia, now: now)
            }
            try database.prepare(
                """
                INSERT INTO target_writes (target, image, event_id, order_ms, written_at, tag) VALUES (?,?,?,?,?,?)
                ON CONFLICT (target, image) DO UPDATE SET event_id = excluded.event_id, order_ms = excluded.order_ms,
                  written_at = excluded.written_at, tag = excluded.tag WHERE excluded.order_ms >= target_writes.order_ms
                """
            ).run([.text(target), .text(image), .text(eventID), .integer(orderMilliseconds), .text(Timestamp.iso8601(now)), SQLValue(tag)])
            return true
        }
    }

    /// What an environment runs now: the tag on its branch, since when, and how it got there
    /// (a commit, or a merged merge request). A `commit` target runs a tag once it is pushed; a
    /// `branch` target once the request carrying it is merged.
    public struct Deployment: Sendable, Hashable {
        public let target: String
        public let image: String
        public let tag: String
        public let since: String
        public let via: String
    }

    /// Notes that `target` runs `image:tag` now.
    public func recordDeployment(target: String, image: String, tag: String, via: String, now: Date = Date()) async throws(DatabaseError) {
        _ = try await submit { database, _ throws(DatabaseError) in
            try Self.upsertDeployment(database, target: target, image: image, tag: tag, via: via, now: now)
            return true
        }
    }

    /// A tag's `since` and `via` stay while the same tag is recorded again.
    static func upsertDeployment(_ database: any SQLDatabase, target: String, image: String, tag: String, via: String, now: Date)
        throws(DatabaseError)
    {
        try database.prepare(
            """
            INSERT INTO deployments (target, image, tag, since, via) VALUES (?,?,?,?,?)
            ON CONFLICT (target, image) DO UPDATE SET since = CASE WHEN tag = excluded.tag THEN since ELSE excluded.since END,
              via = CASE WHEN tag = excluded.tag THEN via ELSE excluded.via END, tag = excluded.tag
            """
        ).run([.text(target), .text(image), .text(tag), .text(Timestamp.iso8601(now)), .text(via)])
    }

    /// Every environment's running tag of `image` (all images when nil).
    public func deployments(image: String? = nil) async throws(DatabaseError) -> [Deployment] {
        try await submit { database, _ throws(DatabaseError) in
            try database.prepare("SELECT target, image, tag, since, via FROM deployments WHERE CAST(?1 AS TEXT) IS NULL OR image = ?1 ORDER BY image, target")
                .run([SQLValue(image)]).map {
                    Deployment(target: $0[0].text ?? "", image: $0[1].text ?? "", tag: $0[2].text ?? "", since: $0[3].text ?? "", via: $0[4].text ?? "")
                }
        }
    }
}

extension JournalSchema {
    /// What each target was last written with, and what each environment runs.
    package static let workers = JournalSchema(feature: "workers", migrations: [{ database in try database.execute(Journal.targetWriteTables) }])
}

/// A merge request as a promotion remembers it: its number on the forge and its address.
public struct MergeRequestReference: Sendable, Hashable {
    public let number: Int
    public let url: String

    public init(number: Int, url: String) {
        self.number = number
        self.url = url
    }
}


extension Journal {
    /// One cell of the status page's matrix: what a target runs, since when, how it got there,
    /// and the event that wrote it (with its digest), when the journal still has it.
    public struct MatrixCell: Sendable, Hashable {
        public let deployment: Deployment
        public let eventID: String?
        public let digest: String?
    }

    /// Every deployment, with the event that last wrote its tag there.
    public func matrix() async throws(DatabaseError) -> [MatrixCell] {
        try await submit { database, _ throws(DatabaseError) in
            try database.prepare(
                """
                SELECT d.target, d.image, d.tag, d.since, d.via, w.event_id, e.digest FROM deployments d
                LEFT JOIN target_writes w ON w.target = d.target AND w.image = d.image AND w.tag = d.tag
                LEFT JOIN events e ON e.id = w.event_id ORDER BY d.image, d.target
                """
            ).run([]).map {
                MatrixCell(
                    deployment: Deployment(target: $0[0].text ?? "", image: $0[1].text ?? "", tag: $0[2].text ?? "", since: $0[3].text ?? "", via: $0[4].text ?? ""),
                    eventID: $0[5].text, digest: $0[6].text)
            }
        }
    }
}
