import CSQLite

/// Owns a `sqlite3*` connection. Not Sendable: one thread uses it (the journal's writer).
package final class SQLiteDatabase: SQLDatabase {
    package var dialect: SQLDialect { .sqlite }

    let handle: OpaquePointer

    init(path: String) throws(DatabaseError) {
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw DatabaseError(code: status, operation: "open \(path)", message: message)
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close(handle) }

    func check(_ status: Int32, _ operation: String) throws(DatabaseError) {
        guard status == SQLITE_OK || status == SQLITE_DONE || status == SQLITE_ROW else {
            throw DatabaseError(code: status, operation: operation, message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    /// The rowid of the last row this connection inserted.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    package func execute(_ sql: String) throws(DatabaseError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), String(sql.prefix(60)))
    }

    package func prepare(_ sql: String) throws(DatabaseError) -> any SQLStatement {
        try prepareSQLite(sql)
    }

    func prepareSQLite(_ sql: String) throws(DatabaseError) -> SQLiteStatement {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil), "prepare \(sql.prefix(60))")
        guard let statement else { throw DatabaseError(code: SQLITE_ERROR, operation: "prepare", message: "no statement") }
        return SQLiteStatement(statement, database: self, sql: sql)
    }
}

/// Owns a prepared `sqlite3_stmt*`.
package final class SQLiteStatement: SQLStatement {
    let handle: OpaquePointer
    package let database: SQLiteDatabase
    let sql: String

    init(_ handle: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Runs the statement with these values; returns every row.
    @discardableResult
    package func run(_ values: [SQLValue]) throws(DatabaseError) -> [[SQLValue]] {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .text(let text):
                let bytes = Array(text.utf8)
                try database.check(
                    bytes.withUnsafeBufferPointer { buffer in
                        buffer.withMemoryRebound(to: CChar.self) {
                            imagebump_sqlite3_bind_text(handle, position, $0.baseAddress, Int32($0.count))
                        }
                    }, "bind")
            case .integer(let number): try database.check(sqlite3_bind_int64(handle, position, number), "bind")
            case .null: try database.check(sqlite3_bind_null(handle, position), "bind")
            }
        }
        var rows: [[SQLValue]] = []
        while true {
            let status = sqlite3_step(handle)
            if status == SQLITE_DONE { return rows }
            try database.check(status, "step \(sql.prefix(60))")
            var row: [SQLValue] = []
            for column in 0..<sqlite3_column_count(handle) {
                switch sqlite3_column_type(handle, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(handle, column)))
                case SQLITE_NULL: row.append(.null)
                default: row.append(.text(sqlite3_column_text(handle, column).map { String(cString: $0) } ?? ""))
                }
            }
            rows.append(row)
        }
    }
}
