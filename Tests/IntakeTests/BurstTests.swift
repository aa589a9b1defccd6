import Events
import Forge
import Foundation
import HTTPClient
import HTTPServer
import ImageReference
import Intake
import Journal
import Manifests
import Pipeline
import TestSupport
import Testing
import Workers

/// A burst through the whole service: 500 events for 20 images across 3 repositories (two
/// `commit` targets, one `branch` target with merge requests on the GitHub double), posted over
/// real HTTP by 20 clients at once.
@Suite struct BurstTests {
    static let repositories = ["repo-a", "repo-b", "repo-c"]
    static let tagsPerImage = 25

    static func image(_ index: Int) -> String { "ghcr.io/acme/svc-\(index < 10 ? "0" : "")\(index)" }

    @Test func aBurstEndsWithEveryEventDoneInCoalescedLinearCommitsAndOneMergeRequestPerImage() async throws {
        let state = try TemporaryDirectory.make("imagebump-burst")
        let journal = try Journal(testing: state.appendingPathComponent("journal.sqlite").path)
        let remotes = try Self.repositories.map {
            try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("burst/\($0)"))
        }
        let github = try GitHubDouble()
        defer { github.expectDocumentedExchanges() }
        let forge = GitHubForge(
            transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "Bearer \(github.token)")]),
            apiBaseURL: github.apiURL, repository: "acme/env")
        let targets = Self.repositories.enumerated().map { index, name in
            GitTarget(
                name: name, repository: name, url: remotes[index].path, branch: "main", paths: [], mode: index == 2 ? .branch : .commit)
        }
        var routes: [ImageName: [Route]] = [:]
        for index in 0..<20 {
            let target = targets[index % 3]
            routes[try ImageName(parsing: Self.image(index))] = [
                Route(target: target, forge: target.mode == .branch ? forge : nil, options: MergeRequestOptions())
            ]
        }
        let table = routes
        // The batch window stays open until every event is in: one batch per repository,
        // whatever the machine's speed.
        let window = TestGate()
        let dispatcher = Dispatcher(
            journal: journal, updater: TargetUpdater(writeBack: WriteBack(settings: WriteBackSettings(stateDirectory: state.path))),
            routes: { table[$0] ?? [] }, attempts: 3, baseDelay: .milliseconds(20), batchWait: { await window.wait() })
        let token = IntakeEndToEndTests.token
        let router = IntakeRouter(
            receivers: [ReceiverSettings(name: "ci", type: .generic, secret: .init(value: token))], journal: journal,
            ignoreReason: dispatcher.ignoreReason, accepted: { id, event in dispatcher.submit(id, event) })
        var settings = HTTPServerSettings()
        settings.port = 0
        let server = try HTTPServer(settings: settings, immediate: router.immediate, deferred: router.deliver) { await router.handle($0) }
        server.start()
        defer { server.shutdown(within: .seconds(2)) }

        // Each client sends its image's tags in order, waiting for every 202.
        let url = "http://127.0.0.1:\(server.port)/v1/events"
        let ids = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for index in 0..<20 {
                group.addTask {
                    var ids: [String] = []
                    for tag in 1...Self.tagsPerImage {
                        let response = try await CurlClient().send(
                            HTTPRequest(
                                method: "POST", url: url,
                                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                body: Array(#"{"image": "\#(Self.image(index))", "tag": "1.0.\#(tag)"}"#.utf8)))
                        guard response.status == 202,
                            let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                            let id = (answer["events"] as? [[String: Any]])?.first?["id"] as? String
                        else { throw GitFixture.Failure(description: "not accepted: \(response.status) \(response.bodyText)") }
                        ids.append(id)
                    }
                    return (index, ids)
                }
            }
            var all: [Int: [String]] = [:]
            for try await (index, ids) in group { all[index] = ids }
            return all
        }
        window.open()
        await dispatcher.drain()

        // Every event is done, or superseded by a newer tag of its image in the same batch.
        let done = try await journal.list(status: .done, limit: 1000)
        let superseded = try await journal.list(status: .superseded, limit: 1000)
        let failed = try await journal.list(status: .failed, limit: 5).map(\.lastError)
        #expect(done.count + superseded.count == 20 * Self.tagsPerImage, "failed: \(failed)")
        let written = Set(done.map(\.id))

        for (repository, remote) in zip(Self.repositories, remotes) {
            let git = { (arguments: [String]) throws -> String in try GitFixture.git(["--git-dir", remote.path] + arguments) }
            let images = (0..<20).filter { Self.repositories[$0 % 3] == repository }
            let eventsHere = Set(images.flatMap { ids[$0] ?? [] })
            let branches =
                repository == "repo-c"
                ? images.map { "imagebump/repo-c/\(Self.image($0).replacingOccurrences(of: "/", with: "-"))" } : ["main"]
            for branch in branches {
                // Linear: no merge commits, every commit on top of the previous one.
                #expect(try git(["rev-list", "--min-parents=2", "--count", branch]) == "0")
                #expect(try git(["rev-list", "--max-parents=0", "--count", branch]) == "1")
            }
            if repository != "repo-c" {
                // Coalesced: the whole burst is one commit on top of the fixture's; every event
                // written is named by exactly one commit, and a superseded one by none.
                let commits = Int(try git(["rev-list", "--count", "main"])) ?? 0
                #expect(commits == 2, "\(commits) commits for \(eventsHere.count) events")
                let trailers = try git(["log", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"])
                    .split(separator: "\n").map(String.init)
                #expect(trailers.count == Set(trailers).count)
                #expect(Set(trailers) == eventsHere.intersection(written))
                for index in images {
                    let name = "svc-\(index < 10 ? "0" : "")\(index)"
                    #expect(
                        try git(["show", "main:apps/\(name)/deployment.yaml"]).contains("\(Self.image(index)):1.0.\(Self.tagsPerImage) #"))
                }
                let kustomization = try git(["show", "main:kustomization.yaml"])
                #expect(
                    kustomization.components(separatedBy: "newTag: 1.0.\(Self.tagsPerImage)").count - 1 == images.count, "\(kustomization)")
            } else {
                // One merge request per image, saying the last tag; the branch holds it.
                let pulls = github.pulls
                #expect(pulls.count == images.count)
                #expect(Set(pulls.map(\.head)) == Set(branches))
                for index in images {
                    let branch = "imagebump/repo-c/\(Self.image(index).replacingOccurrences(of: "/", with: "-"))"
                    let pull = pulls.first { $0.head == branch }
                    #expect(pull?.title == "Bump \(Self.image(index)) to 1.0.\(Self.tagsPerImage) in repo-c")
                    #expect(pull?.state == "open")
                    let name = "svc-\(index < 10 ? "0" : "")\(index)"
                    #expect(try git(["show", "\(branch):apps/\(name)/deployment.yaml"]).contains(":1.0.\(Self.tagsPerImage) #"))
                }
                #expect(try git(["rev-list", "--count", "main"]) == "1")
            }
        }
        journal.close()
    }
}
