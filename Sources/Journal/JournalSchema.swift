/// A feature's tables in the journal, as numbered migrations: the features (Workers, Promotion)
/// own their tables and statements, and the journal knows none of them. When the journal
/// opens, each schema's migrations past the version recorded in `schema_versions` run once, in
/// order, each in its own transaction with the version it reaches. A migration must also bring
/// a journal from before `schema_versions` existed to its shape (tables `IF NOT EXISTS`,
/// columns through ``SQLDatabase/addColumn(_:_:)``).
package struct JournalSchema: Sendable {
    package typealias Migration = @Sendable (any SQLDatabase) throws -> Void

    package let feature: String
    /// Migration N (counted from 1) takes the feature's tables from version N-1 to N.
    package let migrations: [Migration]

    package init(feature: String, migrations: [Migration]) {
        self.feature = feature
        self.migrations = migrations
    }

    /// The advisory lock key migrations hold on PostgreSQL ("imagebump" in ASCII, truncated).
    static let migrationLock: Int64 = 0x696D_6167_6562_756D

    /// Runs the migrations `database` has not seen yet; returns the version reached.
    @discardableResult
    static func migrate(_ schemas: [JournalSchema], in database: any SQLDatabase) throws(DatabaseError) -> [String: Int] {
        // Replicas starting together on one PostgreSQL database migrate one after the other (a
        // session lock, held until the last migration committed); SQLite's file is held by one.
        if database.dialect == .postgres { try database.execute("SELECT pg_advisory_lock(\(Self.migrationLock))") }
        defer { if database.dialect == .postgres { try? database.execute("SELECT pg_advisory_unlock(\(Self.migrationLock))") } }
        try database.execute("CREATE TABLE IF NOT EXISTS schema_versions (feature TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        var reached: [String: Int] = [:]
        for schema in schemas {
            let current = Int(
                try database.prepare("SELECT version FROM schema_versions WHERE feature = ?").run([.text(schema.feature)]).first?[0].integer
                    ?? 0)
            for (index, migration) in schema.migrations.enumerated() where index + 1 > current {
                try database.execute("BEGIN IMMEDIATE")
                do throws(DatabaseError) {
                    do { try migration(database) } catch let error as DatabaseError { throw error } catch {
                        throw DatabaseError(code: -1, operation: "migrate \(schema.feature) to \(index + 1)", message: "\(error)")
                    }
                    try database.prepare(
                        "INSERT INTO schema_versions (feature, version) VALUES (?, ?) ON CONFLICT (feature) DO UPDATE SET version = excluded.version"
                    ).run([.text(schema.feature), .integer(Int64(index + 1))])
                    try database.execute("COMMIT")
                } catch {
                    try? database.execute("ROLLBACK")
                    throw error
                }
            }
            reached[schema.feature] = max(current, schema.migrations.count)
        }
        return reached
    }
}
