import Events
import Forge
import Foundation
import ImageReference
import Journal
import Logging
import Manifests
import Pipeline
import Policy
import Synchronization

/// An event's targets as they finish: how many are left, and what each did (what the one line
/// logged at its end says).
struct EventProgress {
    var count: Int
    let image: String
    var written = 0
    var failed: [String] = []
    var skipped: [String] = []
    var superseded: [String] = []
    var commits: [String] = []
    var mergeRequests: [String] = []
}

/// How one target's part of an event ended.
package enum TargetOutcome: Sendable {
    /// Written (or already there); the tag the target had before, when it changed, and the merge
    /// request that carries it (`branch` targets).
    case written(previousTag: String?, mergeRequest: MergeRequestReference?, commit: String? = nil)
    case skipped(String)
    case failed(String)
    /// A newer request for the same image and target took its place in the batch; never written.
    case superseded(String)
}

/// Runs accepted events: one serial lane per environment repository (no two writers on one
/// repository), lanes in parallel. Updates for one repository that arrive within the batch
/// window are coalesced: one commit per `commit` target, one commit (and merge request) per
/// image for `branch` targets; when one image gets several tags in a window, the last to
/// arrive wins and the earlier events are recorded as superseded by it. Transient failures are
/// retried with exponential backoff and jitter, then the events are marked failed with the last
/// error. Every step is recorded in the journal.
public actor Dispatcher {
    let journal: Journal
    let updater: TargetUpdater
    let routes: @Sendable (ImageName) -> [Route]
    let attempts: Int
    let baseDelay: Duration
    let batchWindow: Duration
    /// How long one write-back's retries may take in all (shared with the HTTP retries inside).
    let retryBudget: Duration
    let logger: Logger
    let metrics: ServiceMetrics
    /// One job: an event's request for one target.
    struct Job {
        let id: String
        let request: BumpRequest
        let route: Route
        /// A revert: may move the target to a lower tag.
        var force = false
        /// The event's push time (else its arrival): an older job never replaces a newer write.
        var order: Int64
        /// An image event's job (not a promotion's or a revert's write): only these start chains.
        var fromEvent = false
        /// The commit subject instead of the template's (a revert says why).
        var subject: String?
    }
    /// Who asked for a write that is not an image event's (a promotion, a revert): what its
    /// merge request names as its trigger, by job id.
    var origins: [String: (source: String, eventID: String)] = [:]
    var pending: [String: [Job]] = [:]
    /// Update branches to delete once the jobs queued before them ran, per repository.
    var cleanups: [String: [(image: ImageName, route: Route, expected: String, done: CheckedContinuation<Bool, Never>)]] = [:]
    /// Callers of ``write(_:route:id:)`` waiting for their job's outcome.
    var waiters: [String: CheckedContinuation<TargetOutcome, Never>] = [:]
    /// Told of every event written to a target (the promotion engine starts chains from it).
    var observer: Observer?
    /// Hears of every event written to a target: the event, what was written, where, the tag the
    /// target had before, and the merge request that carries it.
    package typealias Observer =
        @Sendable (
            _ eventID: String, _ request: BumpRequest, _ target: String, _ previousTag: String?, _ mergeRequest: MergeRequestReference?
        ) async -> Void
    var lanes: [String: Task<Void, Never>] = [:]
    /// Per event: targets still to finish, targets written, and the reasons of the others.
    var remaining: [String: EventProgress] = [:]
    /// Events being checked before they join the lanes, and events whose end is being journaled:
    /// known here though in no lane (``adopt(_:)`` leaves them alone).
    var admitting: Set<String> = []
    var finishing: Set<String> = []
    /// The last events this replica finished (bounded): a read of the unfinished ones taken just
    /// before an event ended must not hand it back.
    var ended = RecentIDs(limit: 10_000)
    let timeFormatter = ISO8601DateFormatter()

    /// How a lane waits out the batch window before taking what is queued (nil: it sleeps
    /// `batchWindow`). A test holds it closed to decide what one batch takes, whatever the
    /// machine's speed.
    let batchWait: (@Sendable () async -> Void)?
    /// Checks an event against its registry before any target takes it (nil: nothing is checked).
    let verify: (@Sendable (ImageEvent) async -> Verification)?

    public init(
        journal: Journal, updater: TargetUpdater, routes: @escaping @Sendable (ImageName) -> [Route], attempts: Int = 5,
        baseDelay: Duration = .seconds(1), batchWindow: Duration = .seconds(2), retryBudget: Duration = .seconds(900),
        metrics: ServiceMetrics = .disabled, logger: Logger = Logger(label: "imagebump.dispatcher", factory: { _ in SwiftLogNoOpLogHandler() }),
        batchWait: (@Sendable () async -> Void)? = nil, verify: (@Sendable (ImageEvent) async -> Verification)? = nil
    ) {
        self.batchWait = batchWait
        self.verify = verify
        self.retryBudget = retryBudget
        self.metrics = metrics
        self.journal = journal
        self.updater = updater
        self.routes = routes
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.batchWindow = batchWindow
        self.logger = logger
    }

    /// Events handed over and not yet taken into the lanes, and whether a task is taking them.
    private let inbox = Mutex<(events: [(String, ImageEvent)], draining: Bool)>(([], false))

    /// Queues an accepted event, without waiting for the actor: the event joins an inbox that
    /// one task empties into the lanes in order, so events keep the order they arrived in.
    public nonisolated func submit(_ id: String, _ event: ImageEvent) {
        let start = inbox.withLock { state -> Bool in
            state.events.append((id, event))
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if start { Task { await takeInbox() } }
    }

    /// Why an event is not for the workers (journaled as ignored at intake), or nil when some
    /// target may take it: no target is configured for the image; or it is an untagged push
    /// from a registry (a child manifest of a multi-arch image, an attestation, a push by
    /// digest), which may move only references pinned by digest alone, and no target of the
    /// image has `digest: only`.
    public nonisolated func ignoreReason(_ event: ImageEvent) -> String? {
        guard let image = event.image, case let targets = routes(image), !targets.isEmpty else {
            return "no target is configured for \(event.registry)/\(event.repository)"
        }
        if event.isUntaggedRegistryPush, !targets.contains(where: { $0.policy.digest == .only }) {
            return Self.untaggedReason(event)
        }
        return nil
    }

    static func untaggedReason(_ event: ImageEvent) -> String {
        "untagged push of \(event): a registry sends one for every child manifest of a multi-arch image, for attestations and for pushes by digest; it moves only references pinned by digest alone, in targets whose policy says digest: only"
    }

    private func takeInbox() async {
        while true {
            let events = inbox.withLock { state in
                defer { state.events.removeAll() }
                if state.events.isEmpty { state.draining = false }
                return state.events
            }
            guard !events.isEmpty else { return }
            for (id, event) in events { await enqueue(id, event) }
        }
    }

    /// Routes an event to its targets' lanes; an event no target takes is journaled at once
    /// (awaited, so that ``drain()`` returns only when its outcome is recorded).
    private func enqueue(_ id: String, _ event: ImageEvent) async {
        if let detail = ignoreReason(event) {
            try? await journal.update(id, status: .ignored, detail: detail)
            metrics.count("imagebump_events_finished_total", [("status", "ignored")])
            logger.info("event ignored", metadata: ["event.id": "\(id)", "image": "\(event)", "reason": "\(detail)"])
            return
        }
        guard let image = event.image else { return }
        let targets = routes(image)
        let request: BumpRequest
        do { request = try BumpRequest(ImageReference(name: image, tag: event.tag, digest: event.digest)) } catch {
            let detail = "\(error)"
            try? await journal.update(id, status: .failed, detail: detail, error: detail)
            metrics.count("imagebump_events_finished_total", [("status", "failed")])
            logger.info("event failed", metadata: ["event.id": "\(id)", "image": "\(event)", "error": "\(detail)"])
            return
        }
        guard remaining[id] == nil, admitting.insert(id).inserted else { return }  // already queued (a retry racing recovery)
        defer { admitting.remove(id) }
        guard await verified(id, event) else { return }
        var taking: [Route] = []
        var skipped: [String] = []
        for route in targets {
            if let tag = event.tag, case .rejected(let reason) = route.policy.verdict(tag) {
                skipped.append("\(route.target.name): skipped: \(reason)")
            } else if event.isUntaggedRegistryPush, route.policy.digest != .only {
                skipped.append("\(route.target.name): skipped: an untagged push moves digest pins only where the policy says digest: only")
            } else {
                taking.append(route)
            }
        }
        guard !taking.isEmpty else {
            let detail = skipped.joined(separator: "; ")
            try? await journal.update(id, status: .skipped, detail: detail)
            metrics.count("imagebump_events_finished_total", [("status", "skipped")])
            logger.info("event skipped", metadata: ["event.id": "\(id)", "image": "\(event)", "reason": "\(detail)"])
            return
        }
        remaining[id] = EventProgress(count: taking.count, image: event.description, skipped: skipped)
        let order = event.pushedAtMilliseconds ?? EventID.milliseconds(id) ?? Self.now()
        for route in taking {
            let repository = route.target.repository
            pending[repository, default: []].append(Job(id: id, request: request, route: route, order: order, fromEvent: true))
            startLane(repository)
        }
        recordPending()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func recordPending() {
        metrics.record("imagebump_pending_jobs", pending.values.reduce(0) { $0 + $1.count }, aggregate: false)
    }

    /// Writes one request to one target in the target repository's lane (batched with what else
    /// is queued there) and returns how it ended. `id` names the write in the commit's trailer, so
    /// the same id written again after a restart changes nothing.
    package func write(
        _ request: BumpRequest, route: Route, id: String, force: Bool = false, subject: String? = nil,
        origin: (source: String, eventID: String)? = nil
    ) async -> TargetOutcome {
        await withCheckedContinuation { continuation in
            waiters[id] = continuation
            if let origin { origins[id] = origin }
            let repository = route.target.repository
            pending[repository, default: []].append(
                Job(id: id, request: request, route: route, force: force, order: Self.now(), subject: subject))
            startLane(repository)
            recordPending()
        }
    }

    /// Deletes the update branch of `image` in a `branch` target once its merge request was
    /// merged or closed, in the repository's lane, only while the branch is still at `expected`.
    /// True when it was deleted.
    public func cleanUp(image: ImageName, route: Route, expected: String) async -> Bool {
        await withCheckedContinuation { continuation in
            let repository = route.target.repository
            cleanups[repository, default: []].append((image, route, expected, continuation))
            startLane(repository)
        }
    }

    /// Sets who hears of every event written to a target.
    package func observe(_ observer: @escaping Observer) {
        self.observer = observer
    }

    /// Queues again every event a previous run accepted but did not finish (after a crash).
    /// A target already written for the event is recognised by its commit trailer and left alone.
    public func recover() async throws(DatabaseError) {
        let events = try await journal.unfinished()
        for event in events {
            submit(event.id, event.imageEvent)
        }
        guard !events.isEmpty else { return }
        let committed = events.filter { $0.status == .committed }.count
        logger.info(
            "recovered \(events.count) events: \(events.count - committed) received, \(committed) committed to some targets; running them again",
            metadata: ["events": .stringConvertible(events.count)])
    }

    /// Takes the unfinished events another replica accepted (several replicas on one journal:
    /// the lease holder runs them all), leaving alone those this one has in hand; how many it took.
    public func adopt(_ events: [JournalEvent]) -> Int {
        let inbox = Set(self.inbox.withLock { $0.events.map(\.0) })
        let new = events.filter {
            remaining[$0.id] == nil && !admitting.contains($0.id) && !finishing.contains($0.id) && !ended.contains($0.id) && !inbox.contains($0.id)
        }
        for event in new { submit(event.id, event.imageEvent) }
        return new.count
    }

    /// Waits until every event submitted so far is queued in its lanes (or finished).
    func queued() async {
        while inbox.withLock({ !$0.events.isEmpty || $0.draining }) { try? await Task.sleep(for: .milliseconds(1)) }
    }

    /// Waits until every queued job has finished.
    public func drain() async {
        while true {
            if inbox.withLock({ !$0.events.isEmpty || $0.draining }) {
                await queued()
            } else if let lane = lanes.values.first {
                await lane.value
            } else {
                return
            }
        }
    }

    /// Starts the repository's lane unless it runs already.
    private func startLane(_ repository: String) {
        if lanes[repository] == nil { lanes[repository] = Task { [self] in await runLane(repository) } }
    }

    /// A repository's lane: waits out the batch window, takes everything queued for the
    /// repository, runs it, and repeats until nothing is queued.
    private func runLane(_ repository: String) async {
        while true {
            if let batchWait {
                await batchWait()
            } else if batchWindow > .zero {
                try? await Task.sleep(for: batchWindow)
            }
            let jobs = pending.removeValue(forKey: repository) ?? []
            let deletions = cleanups.removeValue(forKey: repository) ?? []
            recordPending()
            guard !jobs.isEmpty || !deletions.isEmpty else {
                lanes[repository] = nil
                return
            }
            let orders = Dictionary(jobs.map { ($0.id, $0.order) }, uniquingKeysWith: { first, _ in first })
            // Writes made by a promotion (to later environments, or reverting one) never start a chain.
            let fromEvents = Set(jobs.filter(\.fromEvent).map(\.id))
            for batch in Self.batches(jobs) {
                let target = batch.route.target.name
                let winners = Set(batch.items.map(\.eventID))
                // Superseded in the batch: never written, and said so to the event and to whoever waits.
                for item in batch.items {
                    for superseded in item.superseded where !winners.contains(superseded) {
                        await conclude(superseded, .superseded("\(target): superseded by \(item.request) (event \(item.eventID)) in the same batch"))
                    }
                }
                // A late or replayed delivery never moves the target back past a newer push.
                var items: [BumpItem] = []
                for item in batch.items {
                    if !item.force, let reason = await olderThanCurrent(item, target: target, order: orders[item.eventID]) {
                        await conclude(item.eventID, .skipped(reason))
                    } else {
                        items.append(item)
                    }
                }
                guard !items.isEmpty else { continue }
                metrics.record("imagebump_batch_events", items.count)
                let start = ContinuousClock.now
                let outcome = await run(items, batch.route)
                metrics.time("imagebump_writeback_duration_seconds", [("target", target)], since: start)
                for item in items {
                    let result = outcome(item.request.image)
                    if case .written(_, _, let commit) = result {
                        // A commit target runs the tag now (one transaction with the write's
                        // record); a branch target once its request is merged.
                        try? await journal.recordWrite(
                            target: target, image: item.request.image.description, eventID: item.eventID,
                            orderMilliseconds: orders[item.eventID] ?? Self.now(), tag: item.request.tag,
                            deployedVia: batch.route.target.mode == .commit
                                ? commit.map { "commit \($0.prefix(12))" } ?? "already on \(batch.route.target.branch)" : nil)
                    }
                    await conclude(item.eventID, result)
                    if case .written(let previous, let mergeRequest, _) = result, fromEvents.contains(item.eventID) {
                        await observer?(item.eventID, item.request, target, previous, mergeRequest)
                    }
                }
            }
            for deletion in deletions {
                // An update of the same image queued alongside has just written the branch again: keep it.
                let updated = jobs.contains { $0.route.target.name == deletion.route.target.name && $0.request.image == deletion.image }
                var deleted = false
                if !updated {
                    switch await updater.deleteUpdateBranch(
                        target: deletion.route.target, image: deletion.image, expected: deletion.expected)
                    {
                    case .success(let value): deleted = value
                    case .failure(let error): logger.warning("cannot delete an update branch", metadata: ["error": "\(error)"])
                    }
                }
                deletion.done.resume(returning: deleted)
            }
        }
    }

    /// Records one target's outcome for an event and tells whoever waits for it.
    private func conclude(_ id: String, _ outcome: TargetOutcome) async {
        await finish(id, outcome)
        origins[id] = nil
        waiters.removeValue(forKey: id)?.resume(returning: outcome)
    }

    /// Why an item must not be written: its event is older (by push time, else arrival) than
    /// the event that last wrote its image to this target. Nil when it may be written.
    private func olderThanCurrent(_ item: BumpItem, target: String, order: Int64?) async -> String? {
        guard let order, let last = try? await journal.lastWrite(target: target, image: item.request.image.description),
            last.eventID != item.eventID, order < last.orderMilliseconds
        else { return nil }
        return "\(target): skipped: older than the current push (event \(last.eventID) wrote \(item.request.image) there, pushed later)"
    }
}
