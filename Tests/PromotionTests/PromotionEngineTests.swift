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

/// A release walking dev → acc → prd in a real bare repository: dev gated by smoke checks
/// against a local app whose `/version` answers the deployed tag, acc by an approval.
@Suite struct PromotionEngineTests {
    struct Setup {
        let remote: URL
        let journalPath: String
        let state: URL
        let app: DeployedApp
        let api = try! ImageName(parsing: "ghcr.io/acme/api")
        /// The forge of the `branch` targets.
        let github: GitHubDouble
        /// Environments written as merge requests (the rest are `commit` targets).
        let branchTargets: Set<String>

        init(branchTargets: Set<String> = []) throws {
            remote = try GitFixture.bareRepository(from: APIRelease.environmentRepository)
            state = try TemporaryDirectory.make("imagebump-promotion")
            journalPath = state.appendingPathComponent("journal.sqlite").path
            app = try DeployedApp(running: "1.4.1")
            github = try GitHubDouble()
            self.branchTargets = branchTargets
        }

        func route(_ environment: String) throws -> Route {
            let branch = branchTargets.contains(environment)
            let forge = GitHubForge(
                transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "Bearer \(github.token)")]),
                apiBaseURL: github.apiURL, repository: "acme/env")
            return Route(
                target: GitTarget(
                    name: environment, repository: "env", url: remote.path, branch: "main", paths: [try PathGlob("envs/\(environment)/**")],
                    mode: branch ? .branch : .commit),
                forge: branch ? forge : nil, options: MergeRequestOptions())
        }

        /// The route of each environment, as the engine and the merge notice handler look it up.
        func routes() throws -> @Sendable (ImageName, String) -> Route? {
            let routes = try ["dev", "acc", "prd"].map { try route($0) }
            let api = self.api
            return { image, target in image == api ? routes.first { $0.target.name == target } : nil }
        }

        /// dev (no gate) → acc (its merge request must be merged) → prd.
        var mergeChain: PromotionChain {
            PromotionChain(
                name: "api-merge", images: ["ghcr.io/acme/api"],
                steps: [.init(target: "dev", gate: .none), .init(target: "acc", gate: .merged), .init(target: "prd", gate: .none)])
        }

        /// dev (smoke checks against the app, reverting on failure) → acc.
        func smokeInDev(timeout: Duration) -> PromotionChain {
            let smoke = SmokeGate(
                checks: [SmokeCheck(url: app.url + "/version", jsonField: "version")], timeout: timeout, interval: .milliseconds(50))
            return PromotionChain(
                name: "api-release", images: ["ghcr.io/acme/api"],
                steps: [.init(target: "dev", gate: .smoke(smoke)), .init(target: "acc", gate: .none)], revertOnSmokeFailure: true)
        }

        /// dev (no gate) → acc (smoke checks against the app) → prd.
        func smokeInAcc(revert: Bool) -> PromotionChain {
            let smoke = SmokeGate(
                checks: [SmokeCheck(url: app.url + "/version", jsonField: "version")], timeout: .seconds(2),
                interval: .milliseconds(50))
            return PromotionChain(
                name: "api-release", images: ["ghcr.io/acme/api"],
                steps: [.init(target: "dev", gate: .none), .init(target: "acc", gate: .smoke(smoke)), .init(target: "prd", gate: .none)],
                revertOnSmokeFailure: revert)
        }

        var chain: PromotionChain {
            let smoke = SmokeGate(
                checks: [SmokeCheck(url: app.url + "/version", jsonField: "version")], timeout: .seconds(2),
                interval: .milliseconds(50))
            return PromotionChain(
                name: "api-release", images: ["ghcr.io/acme/api"],
                steps: [.init(target: "dev", gate: .smoke(smoke)), .init(target: "acc", gate: .manual), .init(target: "prd", gate: .none)])
        }

        /// A service run: journal, dispatcher (events go to dev only) and the promotion engine.
        func start(chains: [PromotionChain]? = nil) async throws -> (Journal, Dispatcher, PromotionEngine) {
            let journal = try Journal(testing: journalPath)
            let entry = try route("dev")
            let api = self.api
            let dispatcher = Dispatcher(
                journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
                routes: { $0 == api ? [entry] : [] }, attempts: 1, baseDelay: .milliseconds(10), batchWindow: .zero)
            let engine = PromotionEngine(journal: journal, dispatcher: dispatcher, chains: chains ?? [chain], route: try routes())
            try await engine.start()
            return (journal, dispatcher, engine)
        }

        func post(_ tag: String, _ journal: Journal, _ dispatcher: Dispatcher) async throws -> String {
            try await APIRelease.post(tag, journal, dispatcher)
        }

        func tag(_ environment: String) async throws -> String { try await APIRelease.tag(in: remote, environment) }

        /// Polls the journal until the promotion of `tag` reaches `state` (in `environment`, when
        /// given), or 60 s pass (a loaded CI machine runs the whole suite in parallel).
        func promotion(
            _ journal: Journal, tag: String, reaches state: PromotionState, in environment: String? = nil, within: Duration = .seconds(60)
        ) async throws -> PromotionRecord {
            let deadline = ContinuousClock.now + within
            while ContinuousClock.now < deadline {
                if let record = try await journal.promotions().first(where: { $0.tag == tag }), record.state == state,
                    environment.map({ $0 == record.environment }) ?? true
                {
                    return record
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw GitFixture.Failure(description: "the promotion of \(tag) did not reach \(state): \(try await journal.promotions())")
        }
    }

    @Test func aTagWalksDevAccPrdThroughItsGates() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start()
        setup.app.roll(to: "1.4.3")  // the rollout of dev finishes

        _ = try await setup.post("1.4.3", journal, dispatcher)
        let waiting = try await setup.promotion(journal, tag: "1.4.3", reaches: .waitingForApproval)
        #expect(waiting.environment == "acc")
        #expect(try await setup.tag("dev") == "1.4.3")
        #expect(try await setup.tag("acc") == "1.4.3")
        #expect(try await setup.tag("prd") == "1.4.1")

        let approved = try await engine.approve(waiting.id)
        #expect(approved.environment == "prd")
        #expect(try await setup.promotion(journal, tag: "1.4.3", reaches: .done).environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.3")
        do {
            _ = try await engine.approve(waiting.id)
            Issue.record("approved twice")
        } catch {
            #expect(error.code == .wrongState)
            #expect(error.status == 409)
        }
        do {
            _ = try await engine.approve("no-such-promotion")
            Issue.record("approved a promotion that does not exist")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.status == 404)
        }
        #expect(
            try await journal.promotionSteps(waiting.id).map { "\($0.environment) \($0.state)" } == [
                "dev gating", "dev promoting", "acc waiting-for-approval", "acc promoting", "prd gating", "prd done",
            ])
        await dispatcher.drain()
        journal.close()
    }

    @Test func aFailedSmokeCheckStopsTheChain() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInAcc(revert: false)])
        defer { withExtendedLifetime(engine) {} }  // the dispatcher holds the engine weakly
        // acc keeps answering 1.4.1: the new version never comes up there.
        _ = try await setup.post("1.4.4", journal, dispatcher)
        let failed = try await setup.promotion(journal, tag: "1.4.4", reaches: .failed)
        #expect(failed.environment == "acc")
        #expect(failed.detail.contains("smoke checks failed in acc: "))
        #expect(failed.detail.contains("says version = 1.4.1, expected 1.4.4"))
        #expect(failed.detail.hasSuffix("; the chain stops here"))
        #expect(try await setup.tag("dev") == "1.4.4")
        #expect(try await setup.tag("acc") == "1.4.4")
        #expect(try await setup.tag("prd") == "1.4.1")
        await dispatcher.drain()
        journal.close()
    }

    @Test func aFailedPromotionRunsItsGateAgainOnRetry() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInAcc(revert: false)])
        defer { withExtendedLifetime(engine) {} }
        _ = try await setup.post("1.4.4", journal, dispatcher)
        let failed = try await setup.promotion(journal, tag: "1.4.4", reaches: .failed)
        #expect(failed.environment == "acc")
        await #expect(throws: PromotionError.self) { _ = try await engine.cancel(failed.id) }  // failed already
        // The flake is gone (acc's rollout finished): the retry checks again and moves on.
        setup.app.roll(to: "1.4.4")
        let again = try await engine.retry(failed.id)
        #expect(again.state == .gating)
        let done = try await setup.promotion(journal, tag: "1.4.4", reaches: .done)
        #expect(done.environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.4")
        await #expect(throws: PromotionError.self) { _ = try await engine.retry(failed.id) }  // done: nothing to retry
        await dispatcher.drain()
        journal.close()
    }

    @Test func aCancelledPromotionStopsWhereItIs() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start()
        setup.app.roll(to: "1.4.3")
        _ = try await setup.post("1.4.3", journal, dispatcher)
        let waiting = try await setup.promotion(journal, tag: "1.4.3", reaches: .waitingForApproval)
        let cancelled = try await engine.cancel(waiting.id)
        #expect(cancelled.state == .cancelled)
        #expect(cancelled.detail == "cancelled by an operator in acc (it was waiting-for-approval)")
        await #expect(throws: PromotionError.self) { _ = try await engine.approve(waiting.id) }
        #expect(try await journal.promotions(open: true).isEmpty)
        await dispatcher.drain()
        #expect(try await setup.tag("prd") == "1.4.1")
        journal.close()
    }

    @Test func aFailedSmokeCheckRevertsWhenConfigured() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInAcc(revert: true)])
        defer { withExtendedLifetime(engine) {} }
        // acc keeps answering 1.4.1: 1.4.7 never comes up there, so acc goes back to 1.4.1.
        _ = try await setup.post("1.4.7", journal, dispatcher)
        let failed = try await setup.promotion(journal, tag: "1.4.7", reaches: .failed)
        #expect(failed.environment == "acc")
        #expect(failed.detail.hasSuffix("; the chain stops here; reverted acc to 1.4.1"), "\(failed.detail)")
        await dispatcher.drain()
        #expect(try await setup.tag("dev") == "1.4.7")
        #expect(try await setup.tag("acc") == "1.4.1")
        // The revert commit says what it reverts and why; its trailer names the promotion's write.
        let message = try await blocking { try GitFixture.git(["--git-dir", setup.remote.path, "log", "-1", "--format=%B", "main"]) }
        #expect(message.hasPrefix("Revert ghcr.io/acme/api to 1.4.1 in acc (smoke failed for 1.4.7)\n"), "\(message)")
        #expect(message.contains("Imagebump-Event: revert-\(failed.id)-1"))
        #expect(try await setup.tag("prd") == "1.4.1")
        journal.close()
    }

    @Test func aRevertStartsNoPromotion() async throws {
        // Smoke checks in dev, the chain's entry: its revert writes dev, and that write must not
        // start a promotion of the tag it brought back.
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInDev(timeout: .seconds(2))])
        defer { withExtendedLifetime(engine) {} }
        _ = try await setup.post("1.4.7", journal, dispatcher)
        let failed = try await setup.promotion(journal, tag: "1.4.7", reaches: .failed)
        #expect(failed.detail.hasSuffix("; reverted dev to 1.4.1"), "\(failed.detail)")
        await dispatcher.drain()
        #expect(try await setup.tag("dev") == "1.4.1")
        #expect(try await journal.promotions(open: false).map(\.tag) == ["1.4.7"])
        journal.close()
    }

    @Test func anOlderTagsSmokeFailureNeverRevertsBelowTheNewerTag() async throws {
        // Two tags seconds apart; dev's app serves the newer. The older one's checks would time
        // out after 10 minutes: it is superseded the moment the newer tag is written to dev, not
        // when its checks give up (whatever the machine's speed).
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInDev(timeout: .seconds(600))])
        defer { withExtendedLifetime(engine) {} }
        _ = try await setup.post("1.4.11", journal, dispatcher)
        _ = try await setup.promotion(journal, tag: "1.4.11", reaches: .gating, in: "dev")
        _ = try await setup.post("1.4.12", journal, dispatcher)
        _ = try await setup.promotion(journal, tag: "1.4.12", reaches: .gating, in: "dev")
        setup.app.roll(to: "1.4.12")
        _ = try await setup.promotion(journal, tag: "1.4.12", reaches: .done)
        let older = try await setup.promotion(journal, tag: "1.4.11", reaches: .superseded)
        #expect(older.detail == "superseded by 1.4.12 in dev (written there while 1.4.11 was being checked); not reverted", "\(older.detail)")
        await dispatcher.drain()
        #expect(try await setup.tag("dev") == "1.4.12")
        #expect(try await setup.tag("acc") == "1.4.12")
        journal.close()
    }

    /// acc as a `branch` target (auto-merged, then smoke-checked): its smoke failure reverts by
    /// a new merge request that brings the previous tag back.
    @Test func aFailedSmokeCheckInABranchTargetOpensARevertMergeRequest() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInAcc(revert: true)])
        defer { withExtendedLifetime(engine) {} }
        _ = try await setup.post("1.4.7", journal, dispatcher)
        _ = try await setup.promotion(journal, tag: "1.4.7", reaches: .gating, in: "acc")
        // The request is merged (as auto-merge would), while acc's app keeps answering 1.4.1.
        let branch = "imagebump/acc/ghcr.io-acme-api"
        _ = try await blocking {
            let tip = try GitFixture.git(["--git-dir", setup.remote.path, "rev-parse", branch])
            return try GitFixture.git(["--git-dir", setup.remote.path, "update-ref", "refs/heads/main", tip])
        }
        setup.github.store.finish(1, merged: true)
        #expect(try await setup.tag("acc") == "1.4.7")

        let failed = try await setup.promotion(journal, tag: "1.4.7", reaches: .failed)
        #expect(failed.detail.hasSuffix("; the chain stops here; reverted acc to 1.4.1"), "\(failed.detail)")
        await dispatcher.drain()
        let revert = try #require(setup.github.pulls.last)
        #expect(setup.github.pulls.count == 2)
        #expect(revert.state == "open")
        #expect(revert.title == "Bump ghcr.io/acme/api to 1.4.1 in acc")
        // Both requests name what `promotions show` and `events show` know.
        let eventID = try #require(try await journal.promotion(failed.id)?.eventID)
        for pull in setup.github.pulls {
            #expect(pull.body.contains("promotion \(failed.id) of api-release (`imagebump promotions show \(failed.id)`)"), "\(pull.body)")
            #expect(pull.body.contains("(event `\(eventID)`)"))
        }
        let proposed = try await blocking {
            try GitFixture.git(["--git-dir", setup.remote.path, "show", "\(branch):envs/acc/api/deployment.yaml"])
        }
        #expect(proposed.contains("image: ghcr.io/acme/api:1.4.1"))
        #expect(try await setup.tag("acc") == "1.4.7")  // until someone merges the revert
        journal.close()
    }

    /// The same, but nobody merged the request: acc never ran the tag, so the request is closed.
    @Test func aFailedSmokeCheckInAnUnmergedBranchTargetClosesItsRequest() async throws {
        let setup = try Setup(branchTargets: ["acc"])
        defer { setup.github.expectDocumentedExchanges() }
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.smokeInAcc(revert: true)])
        defer { withExtendedLifetime(engine) {} }
        _ = try await setup.post("1.4.7", journal, dispatcher)
        let failed = try await setup.promotion(journal, tag: "1.4.7", reaches: .failed)
        #expect(
            failed.detail.hasSuffix("; the chain stops here; closed merge request #1 unmerged: acc never ran 1.4.7"), "\(failed.detail)")
        await dispatcher.drain()
        #expect(setup.github.pulls.count == 1)
        #expect(setup.github.pulls.first?.state == "closed")
        #expect(setup.github.pulls.first?.comments == ["imagebump closes this request: the promotion of `1.4.7` stopped in acc."])
        #expect(try await setup.tag("acc") == "1.4.1")
        journal.close()
    }

    @Test func aMergedGateWaitsForTheMergeAndAReplayedWebhookMovesNothingTwice() async throws {
        let setup = try Setup()
        let (journal, dispatcher, engine) = try await setup.start(chains: [setup.mergeChain])
        _ = try await setup.post("1.4.6", journal, dispatcher)
        let waiting = try await setup.promotion(journal, tag: "1.4.6", reaches: .waitingForMerge)
        #expect(waiting.environment == "acc")
        #expect(try await setup.tag("prd") == "1.4.1")
        func merged(_ target: String) -> MergeNotice {
            MergeNotice(target: target, image: "ghcr.io/acme/api", number: 7, merged: true, branch: "imagebump/\(target)/ghcr.io-acme-api")
        }
        await engine.ended(merged("prd"))  // another environment's merge: nothing
        #expect(try await journal.promotion(waiting.id)?.state == .waitingForMerge)

        await engine.ended(merged("acc"))
        await engine.ended(merged("acc"))  // the forge redelivers
        let done = try await setup.promotion(journal, tag: "1.4.6", reaches: .done)
        #expect(done.environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.6")
        #expect(try await journal.promotionSteps(waiting.id).filter { $0.state == "promoting" }.count == 2)  // dev→acc, acc→prd
        await dispatcher.drain()
        journal.close()
    }

    @Test func aRestartResumesAPromotionWhereItWas() async throws {
        let setup = try Setup()
        setup.app.roll(to: "1.4.5")
        let (journal, dispatcher, firstEngine) = try await setup.start()
        _ = try await setup.post("1.4.5", journal, dispatcher)
        let waiting = try await setup.promotion(journal, tag: "1.4.5", reaches: .waitingForApproval)
        await dispatcher.drain()
        withExtendedLifetime(firstEngine) {}
        journal.close()

        // A new process: same journal, new dispatcher and engine.
        let (reopened, _, engine) = try await setup.start()
        _ = try await engine.approve(waiting.id)
        #expect(try await setup.promotion(reopened, tag: "1.4.5", reaches: .done).environment == "prd")
        #expect(try await setup.tag("prd") == "1.4.5")
        #expect(try await reopened.promotions().count == 1)  // nothing started twice
        reopened.close()
    }
}
