import Journal

/// What the journal knows of a tag, for polling: whether an event for it exists that is not
/// failed, and how many events polling made for it failed (polling tries a failing tag again at
/// most ``RegistryPoller/failedAttempts`` times; then it is the operator's, `events retry`).
extension Journal {
    package struct TagHistory: Sendable, Hashable {
        /// An event for the tag that is pending or ended other than failed (or ignored for want of a target).
        package let known: Bool
        package let failedPolls: Int
    }

    package func tagHistory(registry: String, repository: String, tag: String) async throws(DatabaseError) -> TagHistory {
        try await submit { database, _ throws(DatabaseError) in
            let rows = try database.prepare(
                """
                SELECT SUM(CASE WHEN status NOT IN ('failed', 'ignored') THEN 1 ELSE 0 END),
                       SUM(CASE WHEN status = 'failed' AND source = 'poll' THEN 1 ELSE 0 END)
                FROM events WHERE registry = ? AND repository = ? AND tag = ?
                """
            ).run([.text(registry), .text(repository), .text(tag)])
            let row = rows.first
            return TagHistory(known: (row?[0].integer ?? 0) > 0, failedPolls: Int(row?[1].integer ?? 0))
        }
    }
}

extension JournalSchema {
    /// Polling looks events up by image and tag.
    package static let catchup = JournalSchema(
        feature: "catchup",
        migrations: [{ database in try database.execute("CREATE INDEX IF NOT EXISTS events_image_tag ON events(registry, repository, tag)") }])
}
