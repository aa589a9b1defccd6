import Foundation
import Journal
import Catchup
import Cluster
import Promotion
import Testing
import Workers

extension Journal {
    /// A journal with every feature's tables, as `serve` opens it.
    package convenience init(
        testing path: String, deduplicationWindow: TimeInterval = 600, redact: @escaping @Sendable (String) -> String = { $0 }
    ) throws(DatabaseError) {
        try self.init(path: path, schemas: [.workers, .promotions, .catchup, .cluster], deduplicationWindow: deduplicationWindow, redact: redact)
    }
}

/// The journal's two backends, for tests that must hold on both.
package enum JournalBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    package var testDescription: String { rawValue }

    /// A new, empty journal location: a file in a temporary directory, or a database of its own
    /// in the test process's PostgreSQL cluster (started by the first caller: on a thread of its
    /// own, never one of the few the tests share).
    package func freshLocation() async throws -> JournalLocation {
        let backend = self
        return try await blocking { try backend.location() }
    }

    private func location() throws -> JournalLocation {
        switch self {
        case .sqlite: return .sqlite(path: try TemporaryDirectory.make("imagebump-journal").appendingPathComponent("journal.sqlite").path)
        case .postgres:
            let cluster = try PostgresCluster.shared
            return .postgres(url: try cluster.freshDatabase(), password: cluster.password)
        }
    }
}

extension Journal {
    /// A journal with every feature's tables at `location`, as `serve` opens it.
    package convenience init(
        testing location: JournalLocation, deduplicationWindow: TimeInterval = 600, redact: @escaping @Sendable (String) -> String = { $0 }
    ) throws(DatabaseError) {
        try self.init(location: location, schemas: [.workers, .promotions, .catchup, .cluster], deduplicationWindow: deduplicationWindow, redact: redact)
    }
}
