import Events
import Forge
import HTTPClient
import Foundation
import ImageReference
import Journal
import Manifests
import Pipeline
import Policy
import TestSupport
import Testing

@testable import Workers

/// The workers' side of "every release lands exactly once": a late delivery never moves a
/// target back, coalescing keeps what each job meant (a revert stays a revert, superseded stays
/// superseded all the way up), every try counts, and a branch target without a forge says so.
@Suite struct ExactlyOnceTests {
    struct Setup {
        let remote: URL
        let journal: Journal
        let dispatcher: Dispatcher

        init(
            batchWindow: Duration = .zero, attempts: Int = 1, url: String? = nil, mode: GitTarget.Mode = .commit, forge: (any Forge)? = nil,
            baseDelay: Duration = .milliseconds(5), retryBudget: Duration = .seconds(900)
        ) throws {
            remote = try GitFixture.bareRepository(from: APIRelease.environmentRepository)
            let state = try TemporaryDirectory.make("imagebump-once")
            journal = try Journal(testing: state.appendingPathComponent("journal.sqlite").path)
            let api = try ImageName(parsing: "ghcr.io/acme/api")
            let route = Route(
                target: GitTarget(
                    name: "dev", repository: "env", url: url ?? remote.path, branch: "main", paths: [try PathGlob("envs/dev/**")],
                    mode: mode),
                forge: forge, options: MergeRequestOptions())
            dispatcher = Dispatcher(
                journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
                routes: { $0 == api ? [route] : [] }, attempts: attempts, baseDelay: baseDelay, batchWindow: batchWindow,
                retryBudget: retryBudget)
        }

        var route: Route { get async { await dispatcher.routes(try! ImageName(parsing: "ghcr.io/acme/api"))[0] } }

        /// Journals and submits an event as the intake would, with the sender's push time.
        func post(_ tag: String, pushedAt: Int64? = nil, delivery: String? = nil) async throws -> String {
            let event = ImageEvent(
                registry: "ghcr.io", repository: "acme/api", tag: tag, digest: nil, source: "distribution", deliveryID: delivery,
                pushedAtMilliseconds: pushedAt)
            let (id, duplicate) = try await journal.record(event)
            if !duplicate { dispatcher.submit(id, event) }
            return id
        }

        func tag() async throws -> String { try await APIRelease.tag(in: remote, "dev") }
    }

    @Test func aLateDeliveryOlderThanTheCurrentPushIsSkipped() async throws {
        // Tags that do not read as versions have no order of their own: push times order them.
        let setup = try Setup()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let newer = try await setup.post("main-ccc", pushedAt: now - 1_000, delivery: "evt-c")
        await setup.dispatcher.drain()
        #expect(try await setup.tag() == "main-ccc")
        #expect(try await setup.journal.event(newer)?.status == .done)

        // The delivery of an earlier push arrives late (a retry queue, a replay): skipped.
        let late = try await setup.post("main-bbb", pushedAt: now - 60_000, delivery: "evt-b")
        await setup.dispatcher.drain()
        #expect(try await setup.tag() == "main-ccc")
        #expect(try await setup.journal.event(late)?.status == .skipped)
        #expect(try await setup.journal.steps(late).last?.2.contains("older than the current push (event \(newer)") == true)

        // A push after it is written.
        let next = try await setup.post("main-ddd", pushedAt: now, delivery: "evt-d")
        await setup.dispatcher.drain()
        #expect(try await setup.journal.event(next)?.status == .done)
        #expect(try await setup.tag() == "main-ddd")
    }

    @Test func coalescingKeepsARevertARevertAndTellsSupersededWaitersSo() async throws {
        let setup = try Setup(batchWindow: .milliseconds(300))
        _ = try await setup.post("1.4.6")
        await setup.dispatcher.drain()
        #expect(try await setup.tag() == "1.4.6")

        // An event and a revert queued in one window: the revert (later, forced) wins, and goes down.
        let route = await setup.route
        let event = try await setup.post("1.4.7")
        await setup.dispatcher.queued()
        let revert = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.1"))
        let outcome = await setup.dispatcher.write(revert, route: route, id: "revert-1", force: true)
        guard case .written = outcome else {
            Issue.record("the revert was not written: \(outcome)")
            return
        }
        #expect(try await setup.tag() == "1.4.1")
        #expect(try await setup.journal.event(event)?.status == .superseded)

        // Two writes in one window: the one superseded hears "superseded", never "written".
        let (lower, higher) = (
            try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.5.0")), try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.5.1"))
        )
        async let first = setup.dispatcher.write(lower, route: route, id: "promotion-a")
        async let second = setup.dispatcher.write(higher, route: route, id: "promotion-b")
        let outcomes = await [first, second]
        let superseded = outcomes.filter { if case .superseded = $0 { true } else { false } }
        let written = outcomes.filter { if case .written = $0 { true } else { false } }
        #expect(superseded.count == 1 && written.count == 1, "\(outcomes)")
        #expect(try await setup.tag() == "1.5.1")
        // Only the written one is in the commit's trailers.
        let trailers = try await blocking { [remote = setup.remote] in
            try GitFixture.git(["--git-dir", remote.path, "log", "-1", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"])
        }
        #expect(trailers == "promotion-b")
    }

    @Test func everyTryCountsInAttempts() async throws {
        let setup = try Setup(attempts: 3, url: "http://127.0.0.1:9/nobody-listens.git")
        let id = try await setup.post("1.4.2")
        await setup.dispatcher.drain()
        let event = try #require(try await setup.journal.event(id))
        #expect(event.status == .failed)
        #expect(event.attempts == 3)
        let retrying = try await setup.journal.steps(id).filter { $0.1 == "retrying" }
        #expect(retrying.count == 2)
    }

    @Test func retriesWaitAtMostFiveMinutesAndStopWhenTheBudgetIsSpent() async throws {
        for attempt in [1, 20, 64, 1000] {
            let delay = Dispatcher.backoff(attempt: attempt, base: .seconds(1))
            #expect(delay > .zero && delay <= .seconds(301), "attempt \(attempt): \(delay)")
        }
        // Five attempts allowed, but the next wait (1 s) would end past the budget (200 ms).
        let setup = try Setup(
            attempts: 5, url: "http://127.0.0.1:9/nobody-listens.git", baseDelay: .seconds(1), retryBudget: .milliseconds(200))
        let id = try await setup.post("1.4.2")
        await setup.dispatcher.drain()
        let event = try #require(try await setup.journal.event(id))
        #expect(event.status == .failed)
        #expect(event.attempts == 1)
        #expect(event.lastError?.contains("gave up: the retry budget") == true, "\(event.lastError ?? "")")
    }

    @Test func aBranchTargetWithoutAForgeSaysNoMergeRequestIsOpened() async throws {
        let setup = try Setup(mode: .branch)
        let id = try await setup.post("1.4.2")
        await setup.dispatcher.drain()
        #expect(try await setup.journal.event(id)?.status == .done)
        let steps = try await setup.journal.steps(id).map(\.2)
        #expect(steps.contains { $0.contains("pushed") && $0.contains("no merge request is opened") }, "\(steps)")
    }

    static func github() throws -> (GitHubDouble, GitHubForge) {
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let forge = GitHubForge(
            transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "Bearer \(github.token)")]),
            apiBaseURL: github.apiURL, repository: "acme/env")
        return (github, forge)
    }

    @Test func aForgeFailureAfterTheBranchPushIsRetriedUntilTheMergeRequestIsOpen() async throws {
        let (github, forge) = try Self.github()
        let setup = try Setup(attempts: 3, mode: .branch, forge: forge)
        github.enqueueFaults([.json(502, ["message": "Bad gateway"]), .json(502, ["message": "Bad gateway"])])
        let id = try await setup.post("1.4.2")
        await setup.dispatcher.drain()
        let event = try #require(try await setup.journal.event(id))
        let steps = try await setup.journal.steps(id)
        #expect(event.status == .done, "\(steps)")
        #expect(event.attempts == 3)
        #expect(event.mergeRequestURL != nil)
        #expect(github.pulls.count == 1)
        // The branch was pushed once; the retries only asked the forge again.
        let branch = WriteBack.updateBranch(target: "dev", image: try ImageName(parsing: "ghcr.io/acme/api"))
        let commits = try await blocking { [remote = setup.remote] in
            try GitFixture.git(["--git-dir", remote.path, "rev-list", "--count", "main..\(branch)"])
        }
        #expect(commits == "1")
    }

    @Test func aForgeThatRefusesTheMergeRequestFailsTheEventWithItsReason() async throws {
        let (github, forge) = try Self.github()
        let setup = try Setup(attempts: 3, mode: .branch, forge: forge)
        github.enqueueFaults([.json(200, []), .json(422, ["message": "Validation Failed: base branch is protected"])])
        let id = try await setup.post("1.4.2")
        await setup.dispatcher.drain()
        let event = try #require(try await setup.journal.event(id))
        #expect(event.status == .failed)
        #expect(event.lastError?.contains("Validation Failed: base branch is protected") == true, "\(event.lastError ?? "")")
        #expect(event.attempts == 1)
        #expect(github.pulls.isEmpty)
    }
}
