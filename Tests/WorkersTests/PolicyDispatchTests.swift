import Events
import Foundation
import ImageReference
import Workers
import Journal
import Manifests
import Pipeline
import Policy
import TestSupport
import Testing

/// Tag policies applied by the workers, against a real bare repository: dev takes any tag,
/// prd only `~1.4.0`; neither ever goes down.
@Suite struct PolicyDispatchTests {
    struct Setup {
        let remote: URL
        let journal: Journal
        let dispatcher: Dispatcher

        init(batchWindow: Duration = .zero) throws {
            remote = try GitFixture.bareRepository(from: APIRelease.environmentRepository)
            let state = try TemporaryDirectory.make("imagebump-policy")
            journal = try Journal(testing: state.appendingPathComponent("journal.sqlite").path)
            let api = try ImageName(parsing: "ghcr.io/acme/api")
            let ignore = ["latest", "*-rc*"]
            let routes = [
                Route(
                    target: GitTarget(
                        name: "dev", repository: "env", url: remote.path, branch: "main", paths: [try PathGlob("envs/dev/**")],
                        mode: .commit),
                    forge: nil, options: MergeRequestOptions(), policy: TagPolicy(ignore: ignore)),
                Route(
                    target: GitTarget(
                        name: "prd", repository: "env", url: remote.path, branch: "main", paths: [try PathGlob("envs/prd/**")],
                        mode: .commit),
                    forge: nil, options: MergeRequestOptions(),
                    policy: TagPolicy(filter: .semver(try SemverRange("~1.4.0"), includePrerelease: false), ignore: ignore)),
            ]
            dispatcher = Dispatcher(
                journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
                routes: { $0 == api ? routes : [] }, attempts: 1, baseDelay: .milliseconds(10), batchWindow: batchWindow)
        }

        func post(_ tag: String) async throws -> String { try await APIRelease.post(tag, journal, dispatcher) }

        func tag(_ environment: String) async throws -> String { try await APIRelease.tag(in: remote, environment) }
    }

    @Test func targetsTakeOnlyWhatTheirPolicyAllowsAndNeverGoDown() async throws {
        let setup = try Setup()
        let first = try await setup.post("1.4.3")
        await setup.dispatcher.drain()
        #expect(try await setup.journal.event(first)?.status == .done)
        #expect(try await setup.tag("dev") == "1.4.3")
        #expect(try await setup.tag("prd") == "1.4.3")

        // Outside prd's range: dev takes it, prd says why not.
        let minor = try await setup.post("1.5.0")
        await setup.dispatcher.drain()
        #expect(try await setup.journal.event(minor)?.status == .done)
        #expect(try await setup.journal.steps(minor).last?.2 == "every target is up to date; prd: skipped: outside ~1.4.0")
        #expect(try await setup.tag("dev") == "1.5.0")
        #expect(try await setup.tag("prd") == "1.4.3")

        // Older than what both run: skipped everywhere, nothing committed.
        let remote = setup.remote
        let commits = try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-list", "--count", "main"]) }
        let older = try await setup.post("1.4.2")
        await setup.dispatcher.drain()
        let skipped = try await setup.journal.event(older)
        #expect(skipped?.status == .skipped)
        #expect(
            try await setup.journal.steps(older).last?.2
                == "dev: skipped: older than current 1.5.0; prd: skipped: older than current 1.4.3")
        #expect(try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-list", "--count", "main"]) } == commits)

        // Ignored tags never reach Git.
        let latest = try await setup.post("latest")
        await setup.dispatcher.drain()
        #expect(try await setup.journal.event(latest)?.status == .skipped)
        #expect(
            try await setup.journal.steps(latest).last?.2 == "dev: skipped: ignored by \"latest\"; prd: skipped: ignored by \"latest\"")
    }

    @Test func outOfOrderArrivalsEndWithTheHigherTag() async throws {
        let setup = try Setup(batchWindow: .milliseconds(200))
        let higher = try await setup.post("1.4.9")
        let lower = try await setup.post("1.4.5")
        await setup.dispatcher.drain()
        #expect(try await setup.tag("prd") == "1.4.9")
        #expect(try await setup.tag("dev") == "1.4.9")
        #expect(try await setup.journal.event(higher)?.status == .done)
        // Superseded means superseded: never written, and its status says so.
        #expect(try await setup.journal.event(lower)?.status == .superseded)
        #expect(try await setup.journal.steps(lower).contains { $0.2.contains("superseded by ghcr.io/acme/api:1.4.9") })
        // And across batches: the lower one arriving later changes nothing.
        let late = try await setup.post("1.4.6")
        await setup.dispatcher.drain()
        #expect(try await setup.journal.event(late)?.status == .skipped)
        #expect(try await setup.tag("prd") == "1.4.9")
    }
}

@Suite struct CleanupDispatchTests {
    @Test func theLaneDeletesAFinishedRequestsBranch() async throws {
        let remote = try GitFixture.bareRepository(from: APIRelease.environmentRepository)
        let state = try TemporaryDirectory.make("imagebump-cleanup")
        let journal = try Journal(testing: state.appendingPathComponent("journal.sqlite").path)
        defer { journal.close() }
        let api = try ImageName(parsing: "ghcr.io/acme/api")
        let route = Route(
            target: GitTarget(
                name: "acc", repository: "env", url: remote.path, branch: "main", paths: [try PathGlob("envs/acc/**")], mode: .branch),
            forge: nil, options: MergeRequestOptions())
        let dispatcher = Dispatcher(
            journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
            routes: { $0 == api ? [route] : [] }, attempts: 1, baseDelay: .milliseconds(10), batchWindow: .zero)
        _ = try await APIRelease.post("1.4.2", journal, dispatcher)
        await dispatcher.drain()
        let tip = try await blocking { try GitFixture.git(["--git-dir", remote.path, "rev-parse", "imagebump/acc/ghcr.io-acme-api"]) }
        #expect(await dispatcher.cleanUp(image: api, route: route, expected: tip))
        #expect(try await blocking { try GitFixture.git(["--git-dir", remote.path, "branch", "--list", "imagebump/*"]) }.isEmpty)
    }
}
