import Events
import Foundation
@testable import Journal
import Promotion
import TestSupport
import Testing
import Workers

/// Promotions and merge notices as the journal keeps them.
@Suite struct PromotionStoreTests {
    static func path() throws -> String {
        try TemporaryDirectory.make("imagebump-promotion-store").appendingPathComponent("journal.sqlite").path
    }

    @Test(arguments: JournalBackend.allCases)
    func promotionsAreDurableDeduplicatedAndLogged(backend: JournalBackend) async throws {
        let path = try await backend.freshLocation()
        let journal = try Journal(testing: path)
        let (started, start) = try await journal.startPromotion(
            chain: "api", image: "ghcr.io/acme/api", tag: "1.4.3", digest: nil, eventID: "e1", environment: "dev", state: .gating,
            detail: "smoke tests running in dev")
        #expect(start == .new)
        let (again, againStart) = try await journal.startPromotion(
            chain: "api", image: "ghcr.io/acme/api", tag: "1.4.3", digest: nil, eventID: "e2", environment: "dev", state: .gating,
            detail: "replayed")
        #expect(againStart == .existing)
        #expect(again.id == started.id)
        try await journal.updatePromotion(started.id, step: 1, environment: "acc", state: .waitingForApproval, detail: "approve to go on")
        journal.close()

        let reopened = try Journal(testing: path)
        let open = try await reopened.promotions(open: true)
        #expect(open.map(\.id) == [started.id])
        #expect(open.first?.environment == "acc")
        #expect(open.first?.state == .waitingForApproval)
        try await reopened.updatePromotion(started.id, step: 2, environment: "prd", state: .done, detail: "1.4.3 is in prd")
        #expect(try await reopened.promotions(open: true).isEmpty)
        #expect(try await reopened.promotions().first?.isFinished == true)
        #expect(try await reopened.promotionSteps(started.id).map(\.state) == ["gating", "waiting-for-approval", "done"])
    }

    @Test(arguments: JournalBackend.allCases)
    func mergeNoticesAreJournaledOnceAndFinished(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        let notice = MergeNotice(target: "acc", image: "ghcr.io/acme/api", number: 12, merged: true, branch: "imagebump/acc/ghcr.io-acme-api")
        let first = try await journal.recordMergeNotice(notice, source: "gitlab")
        #expect(first.isNew)
        let again = try await journal.recordMergeNotice(notice, source: "poll")
        #expect(!again.isNew)
        #expect(again.id == first.id)
        #expect(try await journal.unfinishedMergeNotices().map(\.id) == [first.id])
        #expect(try await journal.unfinishedMergeNotices().first?.notice.merged == true)
        try await journal.finishMergeNotice(first.id)
        #expect(try await journal.unfinishedMergeNotices().isEmpty)
        #expect(try await journal.recordMergeNotice(notice, source: "gitlab").done)
    }

    @Test func aJournalFromBeforeMergeRequestsGainsTheirColumns() async throws {
        let path = try PromotionStoreTests.path()
        do {
            let old = try SQLiteDatabase(path: path)  // closed when it goes
            try old.execute(
                try String(contentsOf: fixturesDirectory().appendingPathComponent("journal-before-merge-requests.sql"), encoding: .utf8))
        }

        let journal = try Journal(testing: path)
        defer { journal.close() }
        let id = "0190a5c0-0000-7000-8000-000000000001"
        let kept = try #require(try await journal.promotion(id))
        #expect(kept.state == .waitingForMerge)
        #expect(kept.previousTag == nil)
        #expect(kept.mergeRequest == nil)
        let reference = MergeRequestReference(number: 12, url: "https://gitlab.com/acme/env/-/merge_requests/12")
        let updated = try await journal.updatePromotion(
            id, step: 1, environment: "acc", state: .waitingForMerge, detail: "found its request", mergeRequest: reference)
        #expect(updated?.mergeRequest == reference)
        let moved = try await journal.updatePromotion(id, step: 2, environment: "prd", state: .done, detail: "1.4.3 is in prd")
        #expect(moved?.mergeRequest == nil)  // a new environment: the request of acc is not prd's
        let notice = MergeNotice(
            target: "acc", image: "ghcr.io/acme/api", number: 12, merged: true, branch: "imagebump/acc/ghcr.io-acme-api")
        #expect(try await journal.recordMergeNotice(notice, source: "gitlab").isNew)
    }
}
