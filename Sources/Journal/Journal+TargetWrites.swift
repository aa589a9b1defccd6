import Foundation

/// What each target was last written with, per image: the event, its order (the sender's
/// push time, else its arrival) and the tag. A late or replayed delivery older than that write is skipped
/// instead of moving the target back, whatever its tag says.
extension Journal {
    static let targetWriteSchema = """
        CREATE TABLE IF NOT EXISTS target_writes (
          target TEXT NOT NULL, image TEXT NOT NULL, event_id TEXT NOT NULL, order_ms INTEGER NOT NULL, written_at TEXT NOT NULL,
          tag TEXT, PRIMARY KEY (target, image));
        """

    /// The last write of `image` to `target`: the event and its order.
    public func lastWrite(target: String, image: String) async throws(SQLiteError) -> (
        eventID: String, orderMilliseconds: Int64, tag: String?
    )? {
        try await submit { database, _ throws(SQLiteError) in
            try database.prepare("SELECT event_id, order_ms, tag FROM target_writes WHERE target = ? AND image = ?").run([
                .text(target), .text(image),
            ]).first.map { ($0[0].text ?? "", $0[1].integer ?? 0, $0[2].text) }
        }
    }

    /// Notes that `eventID` wrote `image` to `target`; an older order never replaces a newer one.
    public func recordWrite(
        target: String, image: String, eventID: String, orderMilliseconds: Int64, tag: String? = nil, now: Date = Date()
    ) async throws(SQLiteError) {
        _ = try await submit { database, _ throws(SQLiteError) in
            try database.prepare(
                """
                INSERT INTO target_writes (target, image, event_id, order_ms, written_at, tag) VALUES (?,?,?,?,?,?)
                ON CONFLICT (target, image) DO UPDATE SET event_id = excluded.event_id, order_ms = excluded.order_ms,
                  written_at = excluded.written_at, tag = excluded.tag WHERE excluded.order_ms >= target_writes.order_ms
                """
            ).run([.text(target), .text(image), .text(eventID), .integer(orderMilliseconds), .text(Timestamp.iso8601(now)), SQLiteValue(tag)])
            return true
        }
    }
}
