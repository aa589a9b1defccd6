import Events
import Promotion
import Foundation
import ImageReference
import Workers
import Journal
import TestSupport
import Testing

/// "A merge request of ours ended", from a webhook or read back by the poller, for a release
/// walking dev (commit) → acc (merge request on the GitHub double, gate `merged`) → prd.
@Suite struct MergeNoticeTests {
    typealias Setup = PromotionEngineTests.Setup

    struct Run {
        let journal: Journal
        let dispatcher: Dispatcher
        let engine: PromotionEngine
        let notices: MergeNoticeHandler
        let poller: MergeRequestPoller

        init(_ setup: Setup) async throws {
            (journal, dispatcher, engine) = try await setup.start(chains: [setup.mergeChain])
            notices = MergeNoticeHandler(journal: journal, dispatcher: dispatcher, promotions: engine, route: try setup.routes())
            poller = MergeRequestPoller(promotions: engine, notices: notices, route: try setup.routes())
        }

        /// Posts `ghcr.io/acme/api:TAG` and waits until its promotion waits for acc's merge request.
        func releaseWaitingForMerge(_ setup: Setup, _ tag: String = "1.4.6") async throws -> PromotionRecord {
            _ = try await setup.post(tag, journal, dispatcher)
            return try await setup.promotion(journal, tag: tag, reaches: .waitingForMerge)
        }

        func stop() async {
            await dispatcher.drain()
            journal.close()
        }
    }

    static let branch = "imagebump/acc/ghcr.io-acme-api"

    static func updateBranchTip(_ setup: Setup) async throws -> String {
        try await blocking { try GitFixture.git(["--git-dir", setup.remote.path, "rev-parse", branch]) }
    }

    @Test func thePollerFindsAMergeNoWebhookReported() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let run = try await Run(setup)
        let waiting = try await run.releaseWaitingForMerge(setup)
        #expect(waiting.mergeRequest == MergeRequestReference(number: 1, url: "https://github.com/acme/env/pull/1"))
        #expect(waiting.detail == "1.4.6 is in acc's merge request #1 (https://github.com/acme/env/pull/1); waiting for it to be merged")
        #expect(await run.poller.pollOnce().isEmpty)  // still open

        let tip = try await Self.updateBranchTip(setup)
        setup.github.store.finish(1, merged: true, headSHA: tip)
        let ended = await run.poller.pollOnce()
        #expect(
            ended == [MergeNotice(target: "acc", image: "ghcr.io/acme/api", number: 1, merged: true, branch: Self.branch, headCommit: tip)])
        let done = try await setup.promotion(run.journal, tag: "1.4.6", reaches: .done)
        #expect(done.environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.6")
        await run.dispatcher.drain()
        #expect(try await blocking { try GitFixture.git(["--git-dir", setup.remote.path, "branch", "--list", "imagebump/*"]) }.isEmpty)

        #expect(await run.poller.pollOnce().isEmpty)  // nothing waits any more: no call
        #expect(setup.github.requests.filter { $0.method == "GET" && $0.path == "/repos/acme/env/pulls/1" }.count == 2)
        #expect(try await run.journal.unfinishedMergeNotices().isEmpty)
        await run.stop()
    }

    @Test func aRequestClosedWithoutMergingStopsThePromotion() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let run = try await Run(setup)
        _ = try await run.releaseWaitingForMerge(setup)
        setup.github.store.finish(1, merged: false)
        #expect(await run.poller.pollOnce().map(\.merged) == [false])
        let failed = try await setup.promotion(run.journal, tag: "1.4.6", reaches: .failed)
        #expect(failed.detail == "its merge request #1 in acc was closed without merging; the chain stops here")
        #expect(try await setup.tag("prd") == "1.4.1")
        await run.stop()
    }

    @Test func twoTagsWaitingOnOneRequestEndWithTheOneItCarried() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let run = try await Run(setup)
        let older = try await run.releaseWaitingForMerge(setup, "1.4.6")
        let newer = try await run.releaseWaitingForMerge(setup, "1.4.7")  // the same request, updated in place
        #expect(newer.mergeRequest?.number == older.mergeRequest?.number)
        #expect(setup.github.pulls.count == 1)
        setup.github.store.finish(1, merged: true, headSHA: try await Self.updateBranchTip(setup))
        _ = await run.poller.pollOnce()

        #expect(try await setup.promotion(run.journal, tag: "1.4.7", reaches: .done).environment == "prd")
        let superseded = try #require(try await run.journal.promotion(older.id))
        #expect(superseded.state == .superseded)
        #expect(superseded.detail == "superseded by 1.4.7: merge request #1 in acc carried it when merged")
        #expect(try await setup.tag("prd") == "1.4.7")
        #expect(try await run.journal.promotions(open: true).isEmpty)
        await run.stop()
    }

    @Test func aNoticeAboutAnotherRequestMovesNothing() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let run = try await Run(setup)
        let waiting = try await run.releaseWaitingForMerge(setup)
        // A late webhook about an earlier request of the same branch.
        await run.engine.ended(MergeNotice(target: "acc", image: "ghcr.io/acme/api", number: 9, merged: false, branch: Self.branch))
        #expect(try await run.journal.promotion(waiting.id)?.state == .waitingForMerge)
        await run.stop()
    }

    @Test func aNoticeJournaledBeforeACrashIsHandledAtTheNextStart() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let first = try await Run(setup)
        _ = try await first.releaseWaitingForMerge(setup)
        // The webhook was journaled and answered; the process died before handling it.
        let notice = MergeNotice(
            target: "acc", image: "ghcr.io/acme/api", number: 1, merged: true, branch: Self.branch,
            headCommit: try await Self.updateBranchTip(setup))
        let recorded = try await first.notices.record(notice, source: "github")
        #expect(recorded.pending)
        await first.stop()
        withExtendedLifetime(first.engine) {}

        let second = try await Run(setup)
        #expect(try await second.journal.unfinishedMergeNotices().map(\.notice) == [notice])
        await (try await second.notices.resume()).value
        #expect(try await setup.promotion(second.journal, tag: "1.4.6", reaches: .done).environment == "prd")
        #expect(try await second.journal.unfinishedMergeNotices().isEmpty)
        // The forge redelivers: recognised as handled.
        let again = try await second.notices.record(notice, source: "github")
        #expect(again.id == recorded.id)
        #expect(!again.pending)
        await second.stop()
        #expect(try await setup.tag("prd") == "1.4.6")
    }
}

/// The race of issue 19: the forge merges the request (auto-merge, a merge bot) and its webhook
/// arrives before imagebump has journaled the request. The notice is kept, and matched once the
/// promotion records its request.
@Suite struct EarlyMergeNoticeTests {
    @Test func aMergeSeenBeforeItsRequestIsJournaledStillMovesThePromotionOn() async throws {
        let setup = try MergeNoticeTests.Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let run = try await MergeNoticeTests.Run(setup)
        // The webhook for acc's request #1 (the double numbers requests from 1) comes first.
        let early = MergeNotice(target: "acc", image: "ghcr.io/acme/api", number: 1, merged: true, branch: MergeNoticeTests.branch)
        let (id, pending) = try await run.notices.record(early, source: "github")
        #expect(pending)
        await run.notices.handle(id, early)
        #expect(try await run.journal.unfinishedMergeNotices().map(\.id) == [id], "kept: nothing waited for #1 yet")

        // Then the release: dev, then acc's request #1 is opened and recorded — and the early
        // merge moves it on to prd.
        _ = try await setup.post("1.4.6", run.journal, run.dispatcher)
        let done = try await setup.promotion(run.journal, tag: "1.4.6", reaches: .done)
        #expect(done.environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.6")
        #expect(try await run.journal.unfinishedMergeNotices().isEmpty)
        await run.stop()
    }
}
