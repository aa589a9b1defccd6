import Foundation
import Journal
import Logging
import Workers

/// `journal.keepDays`: ended promotions and handled merge notices older than the cutoff go;
/// promotions in flight and notices still pending stay, whatever their age.
extension Journal {
    /// Deletes at most `limit` ended promotions last moved before `cutoff` (with their steps),
    /// and handled merge notices from before it; returns how many promotions went.
    public func prunePromotions(before cutoff: Date, limit: Int = 5000) async throws(DatabaseError) -> Int {
        let stamp = Timestamp.iso8601(cutoff)
        return try await submit { database, _ throws(DatabaseError) in
            let ids = try database.prepare(
                "SELECT id FROM promotions WHERE state IN ('done','failed','superseded','cancelled') AND updated_at < ? LIMIT ?"
            ).run([.text(stamp), .integer(Int64(limit))]).compactMap { $0[0].text }
            let deleteSteps = try database.prepare("DELETE FROM promotion_steps WHERE promotion_id = ?")
            let deletePromotion = try database.prepare("DELETE FROM promotions WHERE id = ?")
            for id in ids {
                _ = try deleteSteps.run([.text(id)])
                _ = try deletePromotion.run([.text(id)])
            }
            _ = try database.prepare("DELETE FROM merge_notices WHERE done_at IS NOT NULL AND done_at < ?").run([.text(stamp)])
            return ids.count
        }
    }

    /// How many promotions the journal has in each state.
    public func promotionCounts() async throws(DatabaseError) -> [PromotionState: Int] {
        try await submit { database, _ throws(DatabaseError) in
            var counts: [PromotionState: Int] = [:]
            for row in try database.prepare("SELECT state, COUNT(*) FROM promotions GROUP BY state").run([]) {
                if let state = row[0].text.flatMap(PromotionState.init) { counts[state] = Int(row[1].integer ?? 0) }
            }
            return counts
        }
    }
}

/// Keeps the journal to `journal.keepDays`: at start and every hour, finished events and ended
/// promotions older than that are deleted, a batch per transaction (the writer keeps taking
/// events between batches). What runs where (`deployments`) and each target's last write are
/// state, not history: they stay.
public struct JournalRetention: Sendable {
    let journal: Journal
    let keepDays: Int
    let metrics: ServiceMetrics
    let logger: Logger

    public init(journal: Journal, keepDays: Int, metrics: ServiceMetrics = .disabled, logger: Logger) {
        self.journal = journal
        self.keepDays = keepDays
        self.metrics = metrics
        self.logger = logger
    }

    /// One pass: everything past the cutoff, in batches; how many events and promotions went.
    public func prune(now: Date = Date(), batch: Int = 5000) async throws(DatabaseError) -> (events: Int, promotions: Int) {
        let cutoff = now.addingTimeInterval(-Double(keepDays) * 86_400)
        var (events, promotions) = (0, 0)
        for _ in 0..<10_000 {  // a cap: 50 million rows per pass
            let count = try await journal.pruneEvents(before: cutoff, limit: batch)
            events += count
            if count < batch { break }
        }
        for _ in 0..<10_000 {
            let count = try await journal.prunePromotions(before: cutoff, limit: batch)
            promotions += count
            if count < batch { break }
        }
        metrics.record("imagebump_journal_bytes", journal.sizeOnDisk, aggregate: false)
        if events + promotions > 0 {
            logger.info(
                "journal pruned", metadata: ["events": .stringConvertible(events), "promotions": .stringConvertible(promotions), "keepDays": .stringConvertible(keepDays)])
        }
        return (events, promotions)
    }

    /// Promotions by state and the journal's size, as gauges.
    public func measure() async throws(DatabaseError) {
        let counts = try await journal.promotionCounts()
        for state in PromotionState.allCases {
            metrics.record("imagebump_promotions", counts[state] ?? 0, aggregate: false, [("state", state.rawValue)])
        }
        metrics.record("imagebump_journal_bytes", journal.sizeOnDisk, aggregate: false)
    }

    /// Prunes at start and every `every`; measures every `measureEvery`; until cancelled.
    public func run(every: Duration = .seconds(3600), measureEvery: Duration = .seconds(15)) async {
        var nextPrune = ContinuousClock.now
        while !Task.isCancelled {
            if ContinuousClock.now >= nextPrune {
                do { _ = try await prune() } catch { logger.warning("cannot prune the journal", metadata: ["error": "\(error)"]) }
                nextPrune = .now + every
            }
            try? await measure()
            try? await Task.sleep(for: measureEvery)
        }
    }
}
