import Events
import Forge
import Foundation
import HTTPClient
import ImageReference
import Workers
import Journal
import Manifests
import Pipeline
import Policy
import Promotion
import TestSupport
import Testing

/// Several gates in one step, restarts and merge notices that come early.
extension PromotionEngineTests {
    /// dev → acc (a `branch` target: approved, then merged) → prd.
    func approvedThenMerged(_ setup: Setup) -> PromotionChain {
        PromotionChain(
            name: "api-release", images: ["ghcr.io/acme/api"],
            steps: [.init(target: "dev", gate: .none), .init(target: "acc", gates: [.manual, .merged]), .init(target: "prd", gate: .none)])
    }

    /// 1.4.3 posted, written to dev, and waiting in acc (a `branch` target) for its approval.
    func releaseWaitingForApproval() async throws -> (Setup, Journal, Dispatcher, PromotionEngine, MergeNoticeHandler, PromotionRecord) {
        let setup = try Setup(branchTargets: ["acc"])
        let (journal, dispatcher, engine) = try await setup.start(chains: [approvedThenMerged(setup)])
        let notices = MergeNoticeHandler(journal: journal, dispatcher: dispatcher, promotions: engine, route: try setup.routes())
        _ = try await setup.post("1.4.3", journal, dispatcher)
        let waiting = try await setup.promotion(journal, tag: "1.4.3", reaches: .waitingForApproval, in: "acc")
        return (setup, journal, dispatcher, engine, notices, waiting)
    }

    func notice(_ number: Int, merged: Bool = true) -> MergeNotice {
        MergeNotice(target: "acc", image: "ghcr.io/acme/api", number: number, merged: merged, branch: "imagebump/acc/ghcr.io-acme-api")
    }

    @Test func anApprovalOnABranchTargetWaitsForTheMergeBeforeItIsDone() async throws {
        let (setup, journal, dispatcher, engine, notices, waiting) = try await releaseWaitingForApproval()
        defer { setup.github.expectDocumentedExchanges() }
        #expect(waiting.mergeRequest?.number == 1)
        var acc = try #require(try await engine.overview().first?.environments.first { $0.name == "acc" })
        #expect(acc.running == nil)  // the request is open: acc does not run 1.4.3

        let approved = try await engine.approve(waiting.id)
        #expect(approved.state == .waitingForMerge)
        #expect(approved.environment == "acc")
        #expect(approved.detail.hasPrefix("approved in acc; 1.4.3 is in acc's merge request #1"), "\(approved.detail)")
        #expect(try await setup.tag("prd") == "1.4.1")

        let (id, pending) = try await notices.record(notice(1), source: "github")
        #expect(pending)
        await notices.handle(id, notice(1))
        let done = try await setup.promotion(journal, tag: "1.4.3", reaches: .done)
        #expect(done.environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.3")
        let view = try #require(try await engine.overview().first)
        acc = try #require(view.environments.first { $0.name == "acc" })
        #expect(acc.running?.tag == "1.4.3")
        #expect(acc.running?.via == "merge request #1")
        #expect(view.environments.map { $0.running?.tag } == ["1.4.3", "1.4.3", "1.4.3"])
        #expect(view.inFlight.isEmpty)
        #expect(
            try await journal.promotionSteps(waiting.id).map { "\($0.environment) \($0.state)" } == [
                "dev gating", "dev promoting", "acc waiting-for-approval", "acc waiting-for-merge", "acc promoting", "prd gating", "prd done",
            ])
        await dispatcher.drain()
        journal.close()
    }

    @Test func aMergeBeforeTheApprovalIsKeptAndAppliedWhenApproved() async throws {
        let (setup, journal, dispatcher, engine, notices, waiting) = try await releaseWaitingForApproval()
        defer { setup.github.expectDocumentedExchanges() }
        let view = try #require(try await engine.overview().first)
        #expect(view.inFlight.map(\.gate) == ["manual"])
        // Someone merges the request before the release manager approves.
        let (id, _) = try await notices.record(notice(1), source: "github")
        await notices.handle(id, notice(1))
        #expect(try await journal.promotion(waiting.id)?.state == .waitingForApproval)
        #expect(try await journal.unfinishedMergeNotices().count == 1)  // kept for the merged gate

        _ = try await engine.approve(waiting.id)
        let done = try await setup.promotion(journal, tag: "1.4.3", reaches: .done)
        #expect(done.environment == "prd")
        #expect(try await journal.unfinishedMergeNotices().isEmpty)
        await dispatcher.drain()
        journal.close()
    }

    @Test func sendingAFailedTagAgainStartsItsPromotionOver() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInAcc(revert: false)])
        defer { withExtendedLifetime(engine) {} }
        let first = try await setup.post("1.4.4", journal, dispatcher)
        let failed = try await setup.promotion(journal, tag: "1.4.4", reaches: .failed)
        #expect(failed.environment == "acc")
        // CI sends the same tag again, within the deduplication window: a new event, not a duplicate.
        setup.app.roll(to: "1.4.4")
        let event = ImageEvent(registry: "ghcr.io", repository: "acme/api", tag: "1.4.4", digest: nil, source: "generic", deliveryID: nil)
        let (again, duplicate) = try await journal.record(event)
        #expect(!duplicate)
        #expect(again != first)
        dispatcher.submit(again, event)
        let done = try await setup.promotion(journal, tag: "1.4.4", reaches: .done)
        #expect(done.id == failed.id)
        #expect(done.eventID == again)
        #expect(try await setup.tag("prd") == "1.4.4")
        let steps = try await journal.promotionSteps(failed.id)
        #expect(steps.contains { $0.detail.hasPrefix("started again by event \(again) (it was failed in acc)") }, "\(steps)")
        // A replay of the tag while it runs or after it is done starts nothing.
        let (replayed, replayDuplicate) = try await journal.record(event)
        #expect(replayDuplicate)
        #expect(replayed == again)
        await dispatcher.drain()
        journal.close()
    }
}
