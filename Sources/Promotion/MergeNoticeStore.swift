import Events
import Foundation
import Journal

/// Merge notices (a merge request of ours was merged or closed) are journaled before they are
/// answered, and marked done once handled, so a crash in between replays them at the next start.
extension Journal {
    static let mergeNoticeTables = """
        CREATE TABLE IF NOT EXISTS merge_notices (
          id TEXT PRIMARY KEY, received_at TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, image TEXT NOT NULL,
          number INTEGER NOT NULL, merged INTEGER NOT NULL, branch TEXT NOT NULL, head_commit TEXT, done_at TEXT);
        CREATE UNIQUE INDEX IF NOT EXISTS merge_notices_request ON merge_notices(target, image, number, merged);
        CREATE INDEX IF NOT EXISTS merge_notices_pending ON merge_notices(id) WHERE done_at IS NULL;
        """

    /// Records a notice from `source` (a receiver's name, or `poll`). A notice already recorded
    /// for the same request and outcome (a redelivery) is not recorded again: its id comes back
    /// with `isNew` false, and `done` says whether it was handled.
    public func recordMergeNotice(_ notice: MergeNotice, source: String, now: Date = Date()) async throws(DatabaseError) -> (
        id: String, isNew: Bool, done: Bool
    ) {
        try await submit { database, _ throws(DatabaseError) in
            let key: [SQLValue] = [
                .text(notice.target), .text(notice.image), .integer(Int64(notice.number)), .integer(notice.merged ? 1 : 0),
            ]
            if let row = try database.prepare(
                "SELECT id, done_at FROM merge_notices WHERE target = ? AND image = ? AND number = ? AND merged = ?"
            ).run(key).first {
                return (row[0].text ?? "", false, row[1].text != nil)
            }
            let id = EventID.make(now)
            try database.prepare(
                "INSERT INTO merge_notices (id, received_at, source, target, image, number, merged, branch, head_commit) VALUES (?,?,?,?,?,?,?,?,?)"
            ).run(
                [.text(id), .text(Timestamp.iso8601(now)), .text(source)] + key + [.text(notice.branch), SQLValue(notice.headCommit)])
            return (id, true, false)
        }
    }

    /// Marks a notice handled.
    public func finishMergeNotice(_ id: String, now: Date = Date()) async throws(DatabaseError) {
        _ = try await submit { database, _ throws(DatabaseError) in
            try database.prepare("UPDATE merge_notices SET done_at = ? WHERE id = ?").run([.text(Timestamp.iso8601(now)), .text(id)])
        }
    }

    /// The notices recorded but not handled (a previous run stopped in between), oldest first.
    public func unfinishedMergeNotices() async throws(DatabaseError) -> [(id: String, notice: MergeNotice)] {
        try await submit { database, _ throws(DatabaseError) in
            try database.prepare(
                "SELECT id, target, image, number, merged, branch, head_commit FROM merge_notices WHERE done_at IS NULL ORDER BY id"
            ).run([]).map { row in
                (
                    row[0].text ?? "",
                    MergeNotice(
                        target: row[1].text ?? "", image: row[2].text ?? "", number: Int(row[3].integer ?? 0), merged: row[4].integer == 1,
                        branch: row[5].text ?? "", headCommit: row[6].text)
                )
            }
        }
    }
}
