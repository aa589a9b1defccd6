import Events
import Foundation

/// The events of the deduplication window, in memory on the journal's writer thread: what a
/// new event is looked up against (its delivery id, or its image+tag+digest while that event
/// is pending or done). Kept here instead of in two SQLite indexes, whose random keys (digests,
/// delivery UUIDs) dirtied two pages of the write-ahead log per event and made each commit
/// dozens of writes; the events table itself grows only at its end.
///
/// Rebuilt from the journal's newest rows when it opens, so a restart forgets nothing within
/// the window. Bounded: past `limit` entries the oldest go first (a flood of more than `limit`
/// events inside one window — 83 a second for ten minutes — deduplicates against the newest
/// `limit` only). Its tables are sized for `limit` up front: a hash table growing while
/// requests wait would rehash every entry at once (a 70 ms stall at 200,000).
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
    }

    private struct Entry {
        let id: String
        let epoch: Int64
        let image: ImageKey
        let delivery: DeliveryKey?
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

    init(window: TimeInterval, limit: Int = 50_000) {
        self.window = Int64(window)
        self.limit = max(1, limit)
        entries = Array(repeating: nil, count: self.limit)
        byImage.reserveCapacity(limit)
        byDelivery.reserveCapacity(limit)
        joinable.reserveCapacity(limit)
    }

    static func joins(_ status: EventStatus) -> Bool { status == .received || status == .committed || status == .done }

    /// The event a new one repeats: the same delivery from the same source, or the same
    /// image+tag+digest still pending or done; both within the window.
    func existing(_ event: ImageEvent, digest: String?, now: Int64) -> String? {
        evict(now: now)
        if let delivery = event.deliveryID, let id = byDelivery[DeliveryKey(source: event.source, delivery: delivery)] { return id }
        let key = ImageKey(registry: event.registry, repository: event.repository, tag: event.tag, digest: digest)
        if let id = byImage[key], joinable[id] == true { return id }
        return nil
    }

    /// Notes an event just recorded (events arrive in time order).
    func add(id: String, epoch: Int64, image: ImageKey, delivery: DeliveryKey?, status: EventStatus) {
        if count == limit { dropOldest() }
        entries[(head + count) % limit] = Entry(id: id, epoch: epoch, image: image, delivery: delivery)
        count += 1
        byImage[image] = id
        if let delivery { byDelivery[delivery] = id }
        joinable[id] = Self.joins(status)
    }

    /// Follows an event's status: only pending or done events are joined by repeats.
    func update(_ id: String, status: EventStatus) {
        if joinable[id] != nil { joinable[id] = Self.joins(status) }
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
