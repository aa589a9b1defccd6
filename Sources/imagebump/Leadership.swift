import Catchup
import Cluster
import Foundation
import Journal
import Logging
import Promotion
import ServiceLifecycle
import Workers

/// `serve` with several replicas on one PostgreSQL journal: every replica takes deliveries and
/// answers the status API; the one holding the leader lease runs what writes — the workers, the
/// promotions, merge notices, the pollers and the journal's retention — and takes up the events
/// and notices the other replicas journaled. A holder that loses its lease (it could not renew
/// in time: paused, partitioned) stops at once, as Kubernetes controllers do: what it had in hand
/// is in the journal, and the replica that took the lease over finishes it.
struct Leadership: Service {
    let lease: LeaderLease
    let journal: Journal
    let dispatcher: Dispatcher
    let engine: PromotionEngine
    let mergeNotices: MergeNoticeHandler
    /// What only the holder runs once it leads (pollers, retention), until the graceful shutdown.
    let duties: [@Sendable () async -> Void]
    let metrics: ServiceMetrics
    let logger: Logger
    /// How often the holder looks for what other replicas journaled.
    var pickUpEvery: Duration = .milliseconds(200)

    func run() async throws {
        let (lease, logger) = (lease, logger)
        metrics.record("imagebump_leader", 0, aggregate: false)
        let renewing = await cancelWhenGracefulShutdown {
            await lease.lead(lost: { Self.stepDown("this replica lost the leader lease", logger) })
        }
        guard let renewing else { return }  // stopped before it ever led
        defer { renewing.cancel() }
        metrics.record("imagebump_leader", 1, aggregate: false)
        try await Self.resume(engine: engine, dispatcher: dispatcher, mergeNotices: mergeNotices)
        let (journal, dispatcher, mergeNotices, engine, every, duties) = (journal, dispatcher, mergeNotices, engine, pickUpEvery, duties)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await Self.takeUp(journal: journal, dispatcher: dispatcher, notices: mergeNotices, engine: engine, every: every, logger: logger)
                }
                for duty in duties { group.addTask { await duty() } }
            }
        }
    }

    /// What the writing replica (the only one, or the lease holder) picks up when it starts: open
    /// promotions first, so that recovered events start theirs, then unfinished events, then
    /// merge notices a previous run journaled but did not handle.
    static func resume(engine: PromotionEngine, dispatcher: Dispatcher, mergeNotices: MergeNoticeHandler) async throws {
        try await engine.start()
        try await dispatcher.recover()
        try await mergeNotices.resume()
    }

    /// Stops the process: this replica may no longer write (its lease ran out, or its fence
    /// said so before a push). What it had in hand is in the journal for the new holder;
    /// Kubernetes starts it again as a follower.
    static func stepDown(_ reason: String, _ logger: Logger) -> Never {
        logger.critical("stopping: \(reason); the journal holds its work for the new holder")
        exit(3)
    }

    /// Hands the lanes the events, and the promotions the merge notices and operations (approve,
    /// retry, cancel), that other replicas journaled, until cancelled.
    static func takeUp(
        journal: Journal, dispatcher: Dispatcher, notices: MergeNoticeHandler, engine: PromotionEngine, every: Duration, logger: Logger
    ) async {
        var handled = RecentNotices()
        while !Task.isCancelled {
            do throws(DatabaseError) {
                let taken = await dispatcher.adopt(try await journal.unfinished(limit: 1000))
                if taken > 0 { logger.info("took up events other replicas accepted", metadata: ["events": "\(taken)"]) }
                for (id, notice) in try await journal.unfinishedMergeNotices() where handled.insert(id) {
                    notices.submit(id, notice)
                }
                for request in try await journal.pendingPromotionRequests() {
                    let outcome = await engine.carryOut(request)
                    try await journal.finishPromotionRequest(request.id, outcome: outcome)
                    logger.info("carried out a promotion operation asked of another replica", metadata: ["request": "\(request.id)", "outcome": "\(outcome)"])
                }
            } catch {
                logger.warning("cannot read what other replicas journaled", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: every)
        }
    }

    /// Merge notices this holder handed on already (bounded): a notice kept for a request no
    /// promotion waits for yet is matched when the request is recorded, not handed on again.
    struct RecentNotices {
        private var seen: Set<String> = []
        mutating func insert(_ id: String) -> Bool {
            if seen.count > 10_000 { seen.removeAll() }
            return seen.insert(id).inserted
        }
    }
}
