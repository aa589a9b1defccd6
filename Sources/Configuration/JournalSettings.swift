import Foundation

/// The journal (`journal:`): where it is and how long its history is kept.
public struct JournalSettings: Sendable, Hashable {
    /// Finished events and ended promotions older than this many days are pruned in the
    /// background. Deliveries are recognised as repeats for 30 days only while their events are kept.
    public var keepDays = 30
    /// A PostgreSQL database (`postgres://user@host:5432/db?sslmode=verify-full`, every libpq
    /// URL parameter, TLS modes included) instead of the SQLite file in the state directory.
    public var url: String?
    /// The URL from a secret instead (`env:NAME`, `file:PATH`: a Kubernetes Secret), checked
    /// like a written one when `serve` resolves it.
    public var urlSecret: SecretReference?
    /// Whether the journal is in PostgreSQL (a URL written or from a secret).
    public var isShared: Bool { url != nil || urlSecret != nil }
    /// The PostgreSQL password, from a secret (never in the URL).
    public var password: SecretReference?
    /// Several replicas on one PostgreSQL journal: how long the leader lease lasts unrenewed —
    /// how soon another replica takes the work of one that died or hangs (renewed every fifth).
    public var leaseSeconds = 10
}

/// What the configuration checks of a PostgreSQL URL without connecting.
public enum PostgresURL {
    /// Why `url` cannot be the journal's, or nil when it can.
    public static func problem(_ url: String) -> String? {
        if !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            return "give a PostgreSQL URL (postgres://USER@HOST:5432/DATABASE?sslmode=verify-full), or leave journal.url out for the SQLite file in the state directory"
        }
        if hasPassword(url) { return "a password in the URL would reach logs and process lists: give it as journal.password (env:NAME or file:PATH)" }
        return nil
    }

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
