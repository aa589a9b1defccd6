import Foundation

/// The journal (`journal:`): where it is and how long its history is kept.
public struct JournalSettings: Sendable, Hashable {
    /// Finished events and ended promotions older than this many days are pruned in the
    /// background. Deliveries are recognised as repeats for 30 days only while their events are kept.
    public var keepDays = 30
    /// A PostgreSQL database (`postgres://user@host:5432/db?sslmode=verify-full`, every libpq
    /// URL parameter, TLS modes included) instead of the SQLite file in the state directory.
    public var url: String?
    /// The PostgreSQL password, from a secret (never in the URL).
    public var password: SecretReference?
}

/// What the configuration checks of a PostgreSQL URL without connecting.
enum PostgresURL {
    /// Whether `postgres://user:password@host/…` carries a password in its user part, or in a
    /// `password=` query parameter.
    static func hasPassword(_ url: String) -> Bool {
        guard let scheme = url.range(of: "://") else { return false }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") { return true }
        guard let query = rest.firstIndex(of: "?") else { return false }
        return rest[rest.index(after: query)...].split(separator: "&").contains { $0.hasPrefix("password=") }
    }
}
