import Events

/// Deduplication across replicas that share one PostgreSQL journal: the in-memory window knows
/// only this replica's events, so a repeat it does not know is looked up in the database, under
/// a transaction-scoped advisory lock — two replicas recording the same push at once take turns,
/// and the second finds the first's row. The window stays the cache in front (a repeat of this
/// replica's own event never reaches the database).
///
/// One lock for all images, taken once per transaction: a group commit records many events, and
/// locks per image taken in arrival order deadlock between two replicas that got the same pushes
/// in another order (seen with two replicas under load: PostgreSQL aborted one side's group).
/// Replicas' intake transactions take turns; each still commits a whole group at once.
final class SharedDeduplication {
    let lock, sameImage, sameDelivery, joinable: any SQLStatement
    let window: Int64
    /// The transaction that holds the lock (a count the writer advances at each `BEGIN`).
    private var lockedIn = -1
    var transaction = 0

    init(_ database: any SQLDatabase, window: Int64) throws(DatabaseError) {
        self.window = window
        lock = try database.prepare("SELECT pg_advisory_xact_lock(\(Self.intakeLock))")
        // Joinable as in the window: pending or done, not released by a failed promotion.
        sameImage = try database.prepare(
            """
            SELECT id FROM events WHERE registry = ? AND repository = ? AND tag IS NOT DISTINCT FROM CAST(? AS TEXT)
              AND digest IS NOT DISTINCT FROM CAST(? AS TEXT) AND received_epoch >= ? AND status IN ('received','committed','done')
              AND released = 0 ORDER BY rowid DESC LIMIT 1
            """)
        joinable = try database.prepare("SELECT 1 FROM events WHERE id = ? AND status NOT IN ('failed','ignored') AND released = 0")
        // A delivery is recognised for the ledger's 30 days unless its event failed or was ignored.
        sameDelivery = try database.prepare(
            """
            SELECT id FROM events WHERE delivery_id = ? AND source = ? AND registry = ? AND repository = ?
              AND tag IS NOT DISTINCT FROM CAST(? AS TEXT) AND digest IS NOT DISTINCT FROM CAST(? AS TEXT)
              AND received_epoch >= ? AND status NOT IN ('failed','ignored') ORDER BY rowid DESC LIMIT 1
            """)
    }

    /// Whether an event the window names is still one a repeat joins: not failed or ignored
    /// (nor released by a failed promotion) by another replica since.
    func stillJoinable(_ id: String) throws(DatabaseError) -> Bool {
        try !joinable.run([.text(id)]).isEmpty
    }

    /// The intake lock's key ("imagebump-intake" folded into 63 bits).
    static let intakeLock: Int64 = 0x696D_6167_6562_7569

    /// The event another replica recorded that this one repeats, if any; holds the intake lock
    /// until the transaction ends either way.
    func existing(_ event: ImageEvent, digest: String?, delivery: RecentEvents.DeliveryKey?, now: Int64) throws(DatabaseError) -> String? {
        if lockedIn != transaction {
            try lock.run([])
            lockedIn = transaction
        }
        if let delivery,
            let id = try sameDelivery.run([
                .text(delivery.delivery), .text(delivery.source), .text(event.registry), .text(event.repository), SQLValue(event.tag),
                SQLValue(digest), .integer(now - DeliveryLedger.retention),
            ]).first?.first?.text
        {
            return id
        }
        return try sameImage.run([
            .text(event.registry), .text(event.repository), SQLValue(event.tag), SQLValue(digest), .integer(now - window),
        ]).first?.first?.text
    }
}
