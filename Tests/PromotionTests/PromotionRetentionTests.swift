import Foundation
import Journal
import Logging
import Promotion
import TestSupport
import Testing

/// `journal.keepDays` for promotions: ended ones older than the cutoff go, with their steps;
/// one in flight stays whatever its age.
@Suite struct PromotionRetentionTests {
    @Test(arguments: JournalBackend.allCases)
    func endedPromotionsPastTheCutoffGoAndOnesInFlightStay(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        let (ended, _) = try await journal.startPromotion(
            chain: "api", image: "ghcr.io/acme/api", tag: "1.0.0", digest: nil, eventID: "e1", environment: "dev", state: .gating, detail: "smoke")
        try await journal.updatePromotion(ended.id, step: 1, environment: "prd", state: .done, detail: "1.0.0 is in prd")
        let (waiting, _) = try await journal.startPromotion(
            chain: "api", image: "ghcr.io/acme/api", tag: "1.1.0", digest: nil, eventID: "e2", environment: "acc", state: .waitingForApproval,
            detail: "approve")
        let retention = JournalRetention(journal: journal, keepDays: 30, logger: Logger(label: "test"))
        // Nothing is 30 days old yet.
        #expect(try await retention.prune().promotions == 0)
        // Forty days on, the ended one goes; the one still waiting for approval stays.
        let later = Date().addingTimeInterval(40 * 86_400)
        #expect(try await retention.prune(now: later, batch: 1).promotions == 1)
        let left = try await journal.promotions()
        #expect(left.map(\.id) == [waiting.id])
        #expect(try await journal.promotionSteps(ended.id).isEmpty)
    }
}
