import Configuration
import Foundation
import Journal

extension Configuration {
    /// Where `serve` keeps its journal: `journal.url` (PostgreSQL, written or from a secret; the
    /// password from its own secret), else `STATEDIR/journal.sqlite`.
    func journalLocation(stateDirectory: String) throws(JournalSetupError) -> JournalLocation {
        let url: String
        if let written = journal.url {
            url = written
        } else if let secret = journal.urlSecret {
            do { url = try secret.resolve().revealed.trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                throw JournalSetupError(description: "journal.url: \(error)")
            }
            if let problem = PostgresURL.problem(url) { throw JournalSetupError(description: "journal.url (\(secret)): \(problem)") }
        } else {
            return .sqlite(path: "\(stateDirectory)/journal.sqlite")
        }
        do { return .postgres(url: url, password: try journal.password?.resolve().revealed) } catch {
            throw JournalSetupError(description: "journal.password: \(error)")
        }
    }
}

/// Why `serve` cannot say where its journal is (a secret that does not resolve, a URL from a
/// secret that is not PostgreSQL's or carries a password); never the URL's secret parts.
struct JournalSetupError: Error, CustomStringConvertible {
    let description: String
}
