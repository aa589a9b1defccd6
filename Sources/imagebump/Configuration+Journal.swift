import Configuration
import Journal

extension Configuration {
    /// Where `serve` keeps its journal: `journal.url` (PostgreSQL, the password from its secret),
    /// else `STATEDIR/journal.sqlite`.
    func journalLocation(stateDirectory: String) throws(SecretError) -> JournalLocation {
        guard let url = journal.url else { return .sqlite(path: "\(stateDirectory)/journal.sqlite") }
        return .postgres(url: url, password: try journal.password?.resolve().revealed)
    }
}
