import Events
import Foundation

/// The events of the deduplication window, in memory on the journal's writer thread: what a
/// new event is looked up against (its delivery, or its image+tag+digest while that event is
/// pending or done). Kept here instead of in two SQLite indexes, whose random keys (digests,
/// delivery UUIDs) dirtied two pages of the write-ahead log per event and made each commit
/// dozens of writes; the events table itself grows only at its end.
///
/// A delivery is the sender's delivery id *together with* the event's image, tag and digest:
/// one delivery may carry several events (a distribution envelope, Quay's `updated_tags`,
/// Harbor's resources), and each is its own event.
///
/// Changes are staged per transaction and reach the window only when the journal's COMMIT
/// succeeded (``commit()``); a job rolled back to its savepoint takes its staged changes with
/// it (``rollback(to:)``), and a failed commit drops them all (``rollback()``). So a retry of a
/// delivery whose commit failed is a new event, never a "duplicate" of nothing.
///
/// Rebuilt from the journal's newest rows when it opens, so a restart forgets nothing within
/// the window. Bounded: past `limit` entries the oldest go first (a flood of more than `limit`
/// events inside one window — 83 a second for ten minutes — deduplicates against the newest
/// `limit` only). Its tables are sized for `limit` up front: a hash table growing while
/// requests wait would rehash every entry at once (a 70 ms stall at 200,000).
///
/// Delivery ids are also remembered for ``DeliveryLedger/retention`` (30 days) in
/// ``deliveries``, so a replay of the same delivery next week is still recognised.
final class RecentEvents {
    struct ImageKey: Hashable {
        let registry: String
        let repository: String
        let tag: String?
        let digest: String?
    }

    struct DeliveryKey: Hashable {
        let source: String
        let delivery: String
        let image: ImageKey
    }

    private struct Entry {
        let id: String
        let epoch: Int64
        let image: ImageKey
        let delivery: DeliveryKey?
    }

    private enum Change {
        case add(Entry, status: EventStatus, rowID: Int64)
        case update(String, status: EventStatus)
    }

    let window: Int64
    let limit: Int
    /// A ring, oldest at `head`.
    private var entries: [Entry?]
    private var head = 0
    private(set) var count = 0
    private var byImage: [ImageKey: String] = [:]
    private var byDelivery: [DeliveryKey: String] = [:]
    /// Every kept event, and whether an image repeat may join it (pending or done).
    private var joinable: [String: Bool] = [:]
    /// Delivery ids of the last 30 days (by hash, checked against the row by the journal).
    let deliveries: DeliveryLedger

    /// The open transaction's changes, in order, and the lookups over them.
    private var staged: [Change] = []
    private var stagedImage: [ImageKey: String] = [:]
    private var stagedDelivery: [DeliveryKey: String] = [:]
    private var stagedJoinable: [String: Bool] = [:]

    init(window: TimeInterval, limit: Int = 50_000, deliveryLimit: Int = DeliveryLedger.defaultLimit) {
        self.window = Int64(window)
        self.limit = max(1, limit)
        entries = Array(repeating: nil, count: self.limit)
        byImage.reserveCapacity(limit)
        byDelivery.reserveCapacity(limit)
        joinable.reserveCapacity(limit)
        deliveries = DeliveryLedger(limit: deliveryLimit)
    }

    static func joins(_ status: EventStatus) -> Bool { status == .received || status == .committed || status == .done }

    static func imageKey(_ event: ImageEvent, digest: String?) -> ImageKey {
        ImageKey(registry: event.registry, repository: event.repository, tag: event.tag, digest: digest)
    }

    static func deliveryKey(_ event: ImageEvent, digest: String?) -> DeliveryKey? {
        event.deliveryID.map { DeliveryKey(source: event.source, delivery: $0, image: imageKey(event, digest: digest)) }
    }

    /// The event a new one repeats within the window: the same delivery of the same image+tag+
    /// digest from the same source, or the same image+tag+digest still pending or done.
    /// (Older deliveries: ``deliveries``.)
    func existing(_ event: ImageEvent, digest: String?, now: Int64) -> String? {
        evict(now: now)
        if let delivery = Self.deliveryKey(event, digest: digest), let id = stagedDelivery[delivery] ?? byDelivery[delivery] { return id }
        let key = Self.imageKey(event, digest: digest)
        if let id = stagedImage[key], isJoinable(id) { return id }
        if let id = byImage[key], isJoinable(id) { return id }
        return nil
    }

    private func isJoinable(_ id: String) -> Bool { stagedJoinable[id] ?? joinable[id] ?? false }

    /// Notes an event recorded in the open transaction (events arrive in time order).
    func add(id: String, epoch: Int64, image: ImageKey, delivery: DeliveryKey?, status: EventStatus, rowID: Int64 = 0) {
        let entry = Entry(id: id, epoch: epoch, image: image, delivery: delivery)
        staged.append(.add(entry, status: status, rowID: rowID))
        stage(entry, status: status)
    }

    /// Follows an event's status (in the open transaction): only pending or done events are
    /// joined by repeats.
    func update(_ id: String, status: EventStatus) {
        staged.append(.update(id, status: status))
        stagedJoinable[id] = Self.joins(status)
    }

    /// The event's image and tag may be sent again as a new event (its promotion failed or was
    /// cancelled: sending the tag again is how a release starts over); its delivery id still
    /// recognises a replay of that very delivery.
    func release(_ id: String) { update(id, status: .failed) }

    private func stage(_ entry: Entry, status: EventStatus) {
        stagedImage[entry.image] = entry.id
        if let delivery = entry.delivery { stagedDelivery[delivery] = entry.id }
        stagedJoinable[entry.id] = Self.joins(status)
    }

    /// Where the open transaction is now: a savepoint to roll back to.
    var mark: Int { staged.count }

    /// Forgets the changes staged since `mark` (a job rolled back to its savepoint).
    func rollback(to mark: Int) {
        guard mark < staged.count else { return }
        let kept = staged.prefix(mark)
        staged = []
        (stagedImage, stagedDelivery, stagedJoinable) = ([:], [:], [:])
        for change in kept {
            staged.append(change)
            switch change {
            case .add(let entry, let status, _): stage(entry, status: status)
            case .update(let id, let status): stagedJoinable[id] = Self.joins(status)
            }
        }
    }

    /// Forgets every staged change (the transaction was rolled back).
    func rollback() { rollback(to: 0) }

    /// The transaction committed: its changes join the window.
    func commit() {
        for change in staged {
            switch change {
            case .add(let entry, let status, let rowID):
                apply(entry, status: status)
                if let delivery = entry.delivery, rowID > 0 { deliveries.add(delivery, rowID: rowID, epoch: entry.epoch) }
            case .update(let id, let status):
                if joinable[id] != nil { joinable[id] = Self.joins(status) }
            }
        }
        staged.removeAll(keepingCapacity: true)
        (stagedImage, stagedDelivery, stagedJoinable) = ([:], [:], [:])
    }

    /// Adds a row read back from the journal at open (committed already).
    func restore(id: String, epoch: Int64, image: ImageKey, delivery: DeliveryKey?, status: EventStatus) {
        apply(Entry(id: id, epoch: epoch, image: image, delivery: delivery), status: status)
    }

    /// As the journal opens: an event ``release(_:)`` let go of before the restart stays let go.
    func restoreReleased(_ id: String) { if joinable[id] != nil { joinable[id] = false } }

    private func apply(_ entry: Entry, status: EventStatus) {
        if count == limit { dropOldest() }
        entries[(head + count) % limit] = entry
        count += 1
        byImage[entry.image] = entry.id
        if let delivery = entry.delivery { byDelivery[delivery] = entry.id }
        joinable[entry.id] = Self.joins(status)
    }

    private func evict(now: Int64) {
        while count > 0, let oldest = entries[head], oldest.epoch < now - window { dropOldest() }
    }

    private func dropOldest() {
        guard count > 0, let entry = entries[head] else { return }
        entries[head] = nil
        head = (head + 1) % limit
        count -= 1
        if byImage[entry.image] == entry.id { byImage[entry.image] = nil }
        if let delivery = entry.delivery, byDelivery[delivery] == entry.id { byDelivery[delivery] = nil }
        joinable[entry.id] = nil
    }
}

/// Delivery ids remembered for 30 days: a hash of (source, delivery id, image, tag, digest) →
/// the rowids of the events that had it. A hash match is only a candidate: the journal reads
/// the row back and compares the whole key, so a collision never drops an event. Bounded
/// (`limit` deliveries, oldest first out), rebuilt from the journal at open.
final class DeliveryLedger {
    static let retention: Int64 = 30 * 24 * 3600
    static let defaultLimit = 1_000_000

    private struct Entry {
        let epoch: Int64
        let hash: Int
        let rowID: Int64
    }

    let limit: Int
    private var rows: [Int: [Int64]] = [:]
    /// Oldest first; `head` is the first live one.
    private var order: [Entry] = []
    private var head = 0

    init(limit: Int) { self.limit = max(1, limit) }

    var count: Int { order.count - head }

    /// Rowids of the events that may have had this delivery within the retention.
    func candidates(_ key: RecentEvents.DeliveryKey, now: Int64) -> [Int64] {
        expire(now: now)
        return rows[key.hashValue] ?? []
    }

    func add(_ key: RecentEvents.DeliveryKey, rowID: Int64, epoch: Int64) {
        if count >= limit {
            dropOldest()
            compact()
        }
        let hash = key.hashValue
        rows[hash, default: []].append(rowID)
        order.append(Entry(epoch: epoch, hash: hash, rowID: rowID))
    }

    private func expire(now: Int64) {
        while head < order.count, order[head].epoch < now - Self.retention { dropOldest() }
        compact()
    }

    /// Gives back the space of dropped entries once they are half of it.
    private func compact() {
        if head > 4096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private func dropOldest() {
        guard head < order.count else { return }
        let entry = order[head]
        head += 1
        if var list = rows[entry.hash] {
            list.removeAll { $0 == entry.rowID }
            rows[entry.hash] = list.isEmpty ? nil : list
        }
    }
}
