import Postgres

/// The journal's storage seam: the journal and its features' stores write one SQL, run on the
/// embedded SQLite file (one replica) or on PostgreSQL through libpq (several replicas). Both
/// are owned by one thread at a time (the journal's writer), as GRDB owns its handles.
///
/// The SQL is SQLite's where the two differ only in spelling, and the PostgreSQL side rewrites
/// it (``PostgresSQL/translate(_:)``): `?`/`?N` parameters, `BEGIN IMMEDIATE`, `INTEGER`
/// columns (64-bit there), and the implicit `rowid` (an identity column there).
package protocol SQLDatabase: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs one or more statements without parameters.
    func execute(_ sql: String) throws(DatabaseError)
    func prepare(_ sql: String) throws(DatabaseError) -> any SQLStatement
    /// Adds `column` (`name TYPE …`) to `table` unless it is there (a journal from before
    /// `schema_versions` may have it already).
    func addColumn(_ table: String, _ column: String) throws(DatabaseError)
}

/// A prepared statement of an ``SQLDatabase``.
package protocol SQLStatement: AnyObject {
    /// Runs the statement with these values; returns every row.
    @discardableResult
    func run(_ values: [SQLValue]) throws(DatabaseError) -> [[SQLValue]]
}

package enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// A value bound to or read from a statement.
package enum SQLValue: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    case null

    package init(_ text: String?) { self = text.map { .text($0) } ?? .null }

    package var text: String? { if case .text(let value) = self { value } else { nil } }
    package var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
}

/// A journal database failure with the database's own message and the statement or step that
/// failed: SQLite's result code, or PostgreSQL's SQLSTATE (`40001`, `23505`, `08006`, …).
public struct DatabaseError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: Int32
    public let sqlState: String?
    public let operation: String
    public let message: String

    public init(code: Int32, sqlState: String? = nil, operation: String, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message) " + (sqlState.map { "(SQLSTATE \($0))" } ?? "(SQLite \(code))") }
}

extension SQLiteDatabase {
    package func addColumn(_ table: String, _ column: String) throws(DatabaseError) {
        let name = String(column.prefix { $0 != " " })
        if try prepare("SELECT 1 FROM pragma_table_info('\(table)') WHERE name = '\(name)'").run([]).isEmpty {
            try execute("ALTER TABLE \(table) ADD COLUMN \(column)")
        }
    }
}

/// Where the journal is kept: the embedded SQLite file (one replica), or a PostgreSQL database
/// several replicas share (`journal.url`; the password apart, from a secret).
public enum JournalLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String, password: String?)

    /// Whether several replicas may share it (PostgreSQL; SQLite's file is held by one process).
    public var isShared: Bool {
        if case .postgres = self { true } else { false }
    }

    /// The file, or the URL with any password in it taken out: safe for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let url, _): PostgresConnection.redacted(url)
        }
    }
}
