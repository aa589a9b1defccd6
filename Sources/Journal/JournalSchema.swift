/// A feature's tables in the journal, as numbered migrations: the features (Workers, Promotion)
/// own their tables and statements, and the journal knows none of them. When the journal
/// opens, each schema's migrations past the version recorded in `schema_versions` run once, in
/// order, each in its own transaction with the version it reaches. A migration must also bring
/// a journal from before `schema_versions` existed to its shape (tables `IF NOT EXISTS`,
/// columns through ``SQLiteDatabase/addColumn(_:_:)``).
package struct JournalSchema: Sendable {
    package typealias Migration = @Sendable (SQLiteDatabase) throws -> Void

    package let feature: String
    /// Migration N (counted from 1) takes the feature's tables from version N-1 to N.
    package let migrations: [Migration]

    package init(feature: String, migrations: [Migration]) {
        self.feature = feature
        self.migrations = migrations
    }

    /// Runs the migrations `database` has not seen yet; returns the version reached.
    @discardableResult
    static func migrate(_ schemas: [JournalSchema], in database: SQLiteDatabase) throws(SQLiteError) -> [String: Int] {
        try database.execute("CREATE TABLE IF NOT EXISTS schema_versions (feature TEXT PRIMARY KEY, version INTEGER NOT NULL)")
        var reached: [String: Int] = [:]
        for schema in schemas {
            let current = Int(
                try database.prepare("SELECT version FROM schema_versions WHERE feature = ?").run([.text(schema.feature)]).first?[0].integer
                    ?? 0)
            for (index, migration) in schema.migrations.enumerated() where index + 1 > current {
                try database.execute("BEGIN IMMEDIATE")
                do throws(SQLiteError) {
                    do { try migration(database) } catch let error as SQLiteError { throw error } catch {
                        throw SQLiteError(code: -1, operation: "migrate \(schema.feature) to \(index + 1)", message: "\(error)")
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

extension SQLiteDatabase {
    /// Adds `column` (`name TYPE …`) to `table` unless it is there (a journal from before
    /// `schema_versions` may have it already).
    package func addColumn(_ table: String, _ column: String) throws(SQLiteError) {
        let name = String(column.prefix { $0 != " " })
        if try prepare("SELECT 1 FROM pragma_table_info('\(table)') WHERE name = '\(name)'").run([]).isEmpty {
            try execute("ALTER TABLE \(table) ADD COLUMN \(column)")
        }
    }
}
