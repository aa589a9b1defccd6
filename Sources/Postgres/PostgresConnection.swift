import CPostgres
import Foundation

/// Why a PostgreSQL call failed: the SQLSTATE (`40001` serialization failure, `23505` unique
/// violation, `55P03` lock not available, …) when the server gave one, and its message. The
/// connection string's password is never part of it (it is passed apart from the URL).
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    public let sqlState: String?
    public let operation: String
    public let message: String

    public init(sqlState: String?, operation: String, message: String) {
        self.sqlState = sqlState
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
}

/// A value bound to a statement, sent as text (PostgreSQL casts it to the column's type).
public enum PostgresValue: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    case null

    public var text: String? {
        switch self {
        case .text(let value): value
        case .integer(let value): String(value)
        case .null: nil
        }
    }
}

/// One `PGconn*`: libpq, wrapped once. Not Sendable: one thread uses a connection at a time
/// (as GRDB's database handles, it is owned, never shared).
public final class PostgresConnection {
    private let connection: OpaquePointer

    /// Connects to `url` (`postgres://user@host:port/db?sslmode=verify-full`, every libpq
    /// parameter libpq takes in a URL, TLS modes included); `password` is given apart, so it is
    /// never in a URL, a log or an error. Waits at most `timeoutSeconds` for the connection.
    public init(url: String, password: String? = nil, timeoutSeconds: Int = 10) throws(PostgresError) {
        var keys = ["dbname", "connect_timeout", "application_name"]
        var values = [url, String(timeoutSeconds), "imagebump"]
        if let password {
            keys.append("password")
            values.append(password)
        }
        let handle: OpaquePointer? = withCStrings(keys) { keyPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let handle else { throw PostgresError(sqlState: nil, operation: "connect", message: "out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(sqlState: nil, operation: "connect to \(Self.redacted(url))", message: message)
        }
        // Server notices ("table does not exist, skipping") go nowhere: a library prints nothing.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        connection = handle
    }

    deinit { PQfinish(connection) }

    /// Runs one statement with `$1`, `$2`… parameters; the rows, each column as text (nil for NULL).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> [[String?]] {
        try query(sql, parameters).map { row in row.map(\.text) }
    }

    /// Runs one statement with `$1`, `$2`… parameters; the rows, integer columns (`int2`,
    /// `int4`, `int8`, and `numeric` sums that are whole) as integers, the others as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> [[PostgresValue]] {
        let texts = parameters.map(\.text)
        let result: OpaquePointer? = withOptionalCStrings(texts) { pointers in
            PQexecParams(connection, sql, Int32(texts.count), nil, pointers, nil, nil, 0)
        }
        return try rows(of: result, sql)
    }

    /// Runs a script of statements separated by `;`, without parameters (schema migrations).
    public func run(script sql: String) throws(PostgresError) {
        _ = try rows(of: PQexec(connection, sql), sql)
    }

    /// After a failure: whether the connection itself broke (the server restarted, the network
    /// dropped it), and if so one attempt to connect again, so the next transaction can go on.
    public func reconnectIfBroken() -> Bool {
        guard PQstatus(connection) == CONNECTION_BAD else { return false }
        PQreset(connection)
        return PQstatus(connection) == CONNECTION_OK
    }

    private func rows(of result: OpaquePointer?, _ sql: String) throws(PostgresError) -> [[PostgresValue]] {
        guard let result else {
            throw PostgresError(sqlState: nil, operation: String(sql.prefix(60)), message: Self.trimmed(PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw PostgresError(sqlState: state, operation: String(sql.prefix(60)), message: Self.trimmed(PQresultErrorMessage(result)))
        }
        let (count, columns) = (PQntuples(result), PQnfields(result))
        // Type OIDs (pg_type): 20 int8, 21 int2, 23 int4, 1700 numeric (SUM of integers).
        let integers = (0..<columns).map { [20, 21, 23, 1700].contains(PQftype(result, $0)) }
        var rows: [[PostgresValue]] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            rows.append(
                (0..<columns).map { column in
                    guard PQgetisnull(result, row, column) == 0 else { return .null }
                    let text = String(cString: PQgetvalue(result, row, column))
                    if integers[Int(column)], let number = Int64(text) { return .integer(number) }
                    return .text(text)
                })
        }
        return rows
    }

    /// Runs `work` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ work: (PostgresConnection) throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute("BEGIN")
        do {
            let value = try work(self)
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// The server's version number (e.g. 150018).
    public var serverVersion: Int { Int(PQserverVersion(connection)) }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        (message.map { String(cString: $0) } ?? "unknown error").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A URL with any `user:password@` password removed.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":[REDACTED]" + String(url[at...])
    }
}

/// C strings for `strings`, alive during `body`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) }) { pointers in
        // A key/value array for libpq ends with a NULL key.
        var terminated = Array(UnsafeBufferPointer(start: pointers, count: strings.count)) + [nil]
        return terminated.withUnsafeMutableBufferPointer { body(UnsafePointer($0.baseAddress!)) }
    }
}

/// C strings (NULL for nil) for `strings`, alive during `body`.
private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for copy in copies { free(copy) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
