import Foundation
import Postgres

/// The journal on PostgreSQL: one libpq connection, owned by the journal's writer thread like
/// the SQLite handle. The journal's SQL is rewritten for PostgreSQL once per statement
/// (``PostgresSQL/translate(_:)``); a statement keeps its text and runs it with parameters.
package final class PostgresDatabase: SQLDatabase {
    let connection: PostgresConnection
    package var dialect: SQLDialect { .postgres }

    /// Connects to `url` with `password` given apart (never in the URL, a log or an error).
    package init(url: String, password: String?, timeoutSeconds: Int = 10) throws(DatabaseError) {
        do {
            connection = try PostgresConnection(url: url, password: password, timeoutSeconds: timeoutSeconds)
        } catch {
            throw DatabaseError(error)
        }
    }

    package func execute(_ sql: String) throws(DatabaseError) {
        do { try connection.run(script: PostgresSQL.translate(sql)) } catch { throw failure(error) }
    }

    package func prepare(_ sql: String) throws(DatabaseError) -> any SQLStatement {
        PostgresStatement(database: self, sql: PostgresSQL.translate(sql))
    }

    package func addColumn(_ table: String, _ column: String) throws(DatabaseError) {
        try execute("ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS \(column)")
    }

    /// A failure as the journal reports it; a broken connection is connected again for the next
    /// transaction (this one failed and was rolled back by the server).
    func failure(_ error: PostgresError) -> DatabaseError {
        _ = connection.reconnectIfBroken()
        return DatabaseError(error)
    }
}

/// A statement of a ``PostgresDatabase``: its translated text, run with parameters each time.
package final class PostgresStatement: SQLStatement {
    let database: PostgresDatabase
    let sql: String

    init(database: PostgresDatabase, sql: String) {
        self.database = database
        self.sql = sql
    }

    @discardableResult
    package func run(_ values: [SQLValue]) throws(DatabaseError) -> [[SQLValue]] {
        let parameters: [PostgresValue] = values.map { value in
            switch value {
            case .text(let text): .text(text)
            case .integer(let number): .integer(number)
            case .null: .null
            }
        }
        do {
            return try database.connection.query(sql, parameters).map { row in
                row.map { value in
                    switch value {
                    case .text(let text): .text(text)
                    case .integer(let number): .integer(number)
                    case .null: .null
                    }
                }
            }
        } catch {
            throw database.failure(error)
        }
    }
}

extension DatabaseError {
    init(_ error: PostgresError) {
        self.init(code: -1, sqlState: error.sqlState, operation: error.operation, message: error.message)
    }
}

/// The journal's SQL (SQLite's spelling) in PostgreSQL's.
enum PostgresSQL {
    /// `?N` → `$N` and `?` → `$1`, `$2`… outside quoted text; `BEGIN IMMEDIATE` → `BEGIN`;
    /// `INTEGER` → `BIGINT` (SQLite's integers are 64-bit); every created table gets the
    /// `rowid` SQLite gives it implicitly (insertion order, as the journal reads it), as an
    /// identity column.
    static func translate(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quoted = false
        var characters = sql.makeIterator()
        var pending: Character? = characters.next()
        while let character = pending {
            pending = characters.next()
            if character == "'" { quoted.toggle() }
            guard character == "?", !quoted else {
                output.append(character)
                continue
            }
            var digits = ""
            while let digit = pending, digit.isASCII, digit.isNumber {
                digits.append(digit)
                pending = characters.next()
            }
            if digits.isEmpty {
                output += "$\(next)"
                next += 1
            } else {
                output += "$\(digits)"
            }
        }
        output = output.replacingOccurrences(of: "BEGIN IMMEDIATE", with: "BEGIN")
        output = replacingWord("INTEGER", with: "BIGINT", in: output)
        return addingRowIDs(output)
    }

    static func replacingWord(_ word: String, with replacement: String, in text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: word) {
            let before = rest[..<range.lowerBound].last
            let after = rest[range.upperBound...].first
            let whole = !(before?.isLetter ?? false || before == "_") && !(after?.isLetter ?? false || after == "_")
            result += rest[..<range.lowerBound] + (whole ? replacement : word)
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

    /// `CREATE TABLE [IF NOT EXISTS] name (` → the same with `rowid BIGINT GENERATED BY
    /// DEFAULT AS IDENTITY,` first.
    static func addingRowIDs(_ sql: String) -> String {
        var result = ""
        var rest = Substring(sql)
        while let create = rest.range(of: "CREATE TABLE") {
            guard let open = rest[create.upperBound...].firstIndex(of: "(") else { break }
            result += rest[..<rest.index(after: open)] + "rowid BIGINT GENERATED BY DEFAULT AS IDENTITY, "
            rest = rest[rest.index(after: open)...]
        }
        return result + rest
    }
}
