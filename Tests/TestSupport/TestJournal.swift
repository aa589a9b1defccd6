import Foundation
import Journal
import Catchup
import Promotion
import Workers

extension Journal {
    /// A journal with every feature's tables, as `serve` opens it.
    package convenience init(
        testing path: String, deduplicationWindow: TimeInterval = 600, redact: @escaping @Sendable (String) -> String = { $0 }
    ) throws(SQLiteError) {
        try self.init(path: path, schemas: [.workers, .promotions, .catchup], deduplicationWindow: deduplicationWindow, redact: redact)
    }
}
