import Foundation
import Git
import ImageReference
import Manifests
import TestSupport
import Testing

@testable import Pipeline

/// Write-back against real bare repositories on disk, inspected with the git command line.
@Suite struct WriteBackTests {
    static let fixture = fixturesDirectory().appendingPathComponent("env-repo")
    static let bot = Identity(name: "imagebump bot", email: "bot@imagebump.test")

    struct Setup {
        let remote: URL
        let state: URL
        var settings: WriteBackSettings

        init() throws {
            remote = try GitFixture.bareRepository(from: WriteBackTests.fixture, executable: ["scripts/deploy.sh"])
            state = try TemporaryDirectory.make("imagebump-state")
            settings = WriteBackSettings(
                stateDirectory: state.path, author: Identity(name: "CI Author", email: "ci@imagebump.test"), committer: WriteBackTests.bot)
        }

        func target(
            _ name: String = "dev", mode: GitTarget.Mode = .commit, branch: String = "main", paths: [String]? = nil, url: String? = nil
        ) throws -> GitTarget {
            GitTarget(
                name: name, repository: "env", url: url ?? remote.path, branch: branch,
                paths: try (paths ?? ["envs/\(name)/**", "scripts/**"]).map { try PathGlob($0) }, mode: mode)
        }

        func git(_ arguments: String...) throws -> String { try GitFixture.git(["--git-dir", remote.path] + arguments) }
    }

    func request(_ text: String) throws -> BumpRequest { try BumpRequest(ImageReference(parsing: text)) }

    @Test func commitModePushesExactlyTheEditWithMessageModesAndIdentities() throws {
        let setup = try Setup()
        let before = try setup.git("rev-parse", "main")
        let result = try WriteBack(settings: setup.settings).bump(
            request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "evt-1")
        #expect(result.outcome == .pushed)
        #expect(result.branch == "main")
        #expect(try setup.git("rev-parse", "main") == result.commit?.hex)
        #expect(try setup.git("rev-parse", "main~1") == before)

        // Only the edited blobs differ, by one line each.
        #expect(
            try setup.git("diff", "--numstat", "main~1", "main") == """
                1\t1\tenvs/dev/api/deployment.yaml
                1\t1\tenvs/dev/api/values.yaml
                1\t1\tscripts/deploy.sh
                """)
        #expect(try setup.git("show", "main:envs/dev/api/values.yaml").contains("  tag: \"1.4.2\""))
        #expect(try setup.git("ls-tree", "main", "scripts/deploy.sh").hasPrefix("100755 blob"))
        #expect(
            try setup.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "main")
                == "CI Author <ci@imagebump.test>|imagebump bot <bot@imagebump.test>")
        #expect(
            try setup.git("log", "-1", "--format=%B", "main") == """
                Bump ghcr.io/acme/api to 1.4.2 in envs/dev

                - envs/dev/api/deployment.yaml:13 1.4.1 → 1.4.2
                - envs/dev/api/values.yaml:4 1.4.1 → 1.4.2
                - scripts/deploy.sh:2 1.4.1 → 1.4.2

                Imagebump-Image: ghcr.io/acme/api:1.4.2
                Imagebump-Target: dev
                Imagebump-Event: evt-1
                """)
        // The cache is bare and stores no remote URL.
        let cache = RepositoryCache(stateDirectory: setup.state.path).path(for: "env")
        #expect(!FileManager.default.fileExists(atPath: "\(cache)/index"))
        #expect(!(try String(contentsOfFile: "\(cache)/config", encoding: .utf8)).contains(setup.remote.path))
    }

    @Test func aRepeatedBumpIsANoOp() throws {
        let setup = try Setup()
        let writer = WriteBack(settings: setup.settings)
        _ = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "evt-1")
        let head = try setup.git("rev-parse", "main")
        let again = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "evt-1")
        #expect(again.outcome == .upToDate)
        #expect(try setup.git("rev-parse", "main") == head)
    }

    @Test func aRaceIsRetriedAndBothChangesSurvive() throws {
        let setup = try Setup()
        let remote = setup.remote
        let writer = WriteBack(settings: setup.settings) { attempt in
            guard attempt == 1 else { return }
            try GitFixture.pushChange(to: remote, message: "someone else") { work in
                try Data("# edited by a person\n".utf8).write(to: work.appendingPathComponent("README.md"))
            }
        }
        let result = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "evt-2")
        #expect(result.outcome == .pushed)
        #expect(result.attempts == 2)
        #expect(try setup.git("log", "--format=%s", "main") == "Bump ghcr.io/acme/api to 1.4.2 in envs/dev\nsomeone else\ninitial")
        #expect(try setup.git("show", "main:README.md") == "# edited by a person")
        #expect(try setup.git("show", "main:envs/dev/api/values.yaml").contains("1.4.2"))
    }

    @Test func endlessRacesGiveUpWithAClearError() throws {
        var setup = try Setup()
        setup.settings.pushAttempts = 2
        let remote = setup.remote
        let writer = WriteBack(settings: setup.settings) { attempt in
            try GitFixture.pushChange(to: remote, message: "race \(attempt)") { work in
                try Data("race \(attempt)\n".utf8).write(to: work.appendingPathComponent("README.md"))
            }
        }
        do {
            _ = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "evt-3")
            Issue.record("expected the bump to give up")
        } catch let error as WriteBackError {
            #expect(error.code == .retriesExhausted)
            #expect(error.description.contains("moved under us 2 times"))
        }
        #expect(!(try setup.git("log", "--format=%s", "main")).contains("Bump"))
    }

    @Test func branchModeReplacesOnlyItsOwnCommit() throws {
        let setup = try Setup()
        let writer = WriteBack(settings: setup.settings)
        let target = try setup.target("acc", mode: .branch)
        let main = try setup.git("rev-parse", "main")
        let first = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: target, eventID: "evt-a")
        #expect(first.branch == "imagebump/acc/ghcr.io-acme-api")
        #expect(try setup.git("rev-parse", "main") == main)
        #expect(try setup.git("rev-list", "--count", "main..imagebump/acc/ghcr.io-acme-api") == "1")

        let newer = try writer.bump(request("ghcr.io/acme/api:1.4.3"), target: target, eventID: "evt-b")
        #expect(newer.outcome == .pushed)
        #expect(try setup.git("rev-list", "--count", "main..imagebump/acc/ghcr.io-acme-api") == "1")
        #expect(try setup.git("show", "imagebump/acc/ghcr.io-acme-api:envs/acc/api/values.yaml").contains("1.4.3"))

        let same = try writer.bump(request("ghcr.io/acme/api:1.4.3"), target: target, eventID: "evt-c")
        #expect(same.outcome == .upToDate)
        #expect(same.commit == newer.commit)

        try GitFixture.pushChange(to: setup.remote, branch: "imagebump/acc/ghcr.io-acme-api", message: "a person fixes something") { work in
            try Data("fix\n".utf8).write(to: work.appendingPathComponent("FIX"))
        }
        let humanTip = try setup.git("rev-parse", "imagebump/acc/ghcr.io-acme-api")
        do {
            _ = try writer.bump(request("ghcr.io/acme/api:1.4.4"), target: target, eventID: "evt-d")
            Issue.record("expected a refusal")
        } catch let error as WriteBackError {
            #expect(error.code == .notOurs)
            #expect(error.description.contains("not overwriting"))
        }
        #expect(try setup.git("rev-parse", "imagebump/acc/ghcr.io-acme-api") == humanTip)
    }

    @Test func clearErrors() throws {
        let setup = try Setup()
        let writer = WriteBack(settings: setup.settings)
        #expect(throws: WriteBackError.self) {
            try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(branch: "nope"), eventID: "e")
        }
        do { _ = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(branch: "nope"), eventID: "e") } catch let error
            as WriteBackError
        {
            #expect(error.code == .branchMissing)
            #expect(error.description.contains("the branch nope does not exist"))
        }
        do { _ = try writer.bump(request("ghcr.io/acme/unknown:1.0"), target: setup.target(), eventID: "e") } catch let error
            as WriteBackError
        {
            #expect(error.code == .noReferences)
        }
        do {
            _ = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(url: "http://127.0.0.1:1/env.git"), eventID: "e")
        } catch let error as WriteBackError {
            #expect(error.code == .git)
            #expect(error.gitError?.code == .unreachable, "\(error)")
        }
        do {
            _ = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(url: "/nonexistent/env.git"), eventID: "e")
        } catch let error as WriteBackError {
            #expect(error.code == .git)
            #expect(error.description.contains("/nonexistent/env.git"))
        }
    }

    @Test func aCorruptCacheIsRecloned() throws {
        let setup = try Setup()
        let writer = WriteBack(settings: setup.settings)
        _ = try writer.bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "e1")
        let cache = RepositoryCache(stateDirectory: setup.state.path).path(for: "env")
        // Break it: no HEAD, garbage objects.
        try FileManager.default.removeItem(atPath: "\(cache)/HEAD")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: "\(cache)/objects/pack/garbage.pack"))
        let result = try writer.bump(request("ghcr.io/acme/api:1.4.3"), target: setup.target(), eventID: "e2")
        #expect(result.outcome == .pushed)
        #expect(try setup.git("show", "main:envs/dev/api/values.yaml").contains("1.4.3"))
    }

    @Test func anUnwritableStateDirectoryFailsCleanlyAndPushesNothing() throws {
        var setup = try Setup()
        let blocker = setup.state.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        setup.settings.stateDirectory = blocker.appendingPathComponent("state").path
        let before = try setup.git("rev-parse", "main")
        do {
            _ = try WriteBack(settings: setup.settings).bump(request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "e")
            Issue.record("expected a storage error")
        } catch let error as WriteBackError {
            #expect(error.code == .storage)
            #expect(error.description.contains("check that the state directory is writable"))
        }
        #expect(try setup.git("rev-parse", "main") == before)
    }

    @Test func dryRunWritesNothing() throws {
        let setup = try Setup()
        let before = try setup.git("rev-parse", "main")
        let result = try WriteBack(settings: setup.settings).bump(
            request("ghcr.io/acme/api:1.4.2"), target: setup.target(), eventID: "e", dryRun: true)
        #expect(result.outcome == .dryRun)
        #expect(result.updates.filter(\.isChanged).count == 3)
        #expect(try setup.git("rev-parse", "main") == before)
    }
}

@Suite struct ReplayTests {
    @Test func aReplayedEventIsNotAppliedAgainAfterNewerCommits() throws {
        let setup = try WriteBackTests.Setup()
        let writer = WriteBack(settings: setup.settings)
        _ = try writer.bump(BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: setup.target(), eventID: "event-A")
        _ = try writer.bump(BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.3")), target: setup.target(), eventID: "event-B")
        let head = try setup.git("rev-parse", "main")
        // Event A again (as recovery would after a crash): recognised by its trailer.
        let replay = try writer.bump(
            BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: setup.target(), eventID: "event-A")
        #expect(replay.outcome == .upToDate)
        #expect(try setup.git("rev-parse", "main") == head)
        #expect(try setup.git("show", "main:envs/dev/api/values.yaml").contains("1.4.3"))
    }
}

/// Several images in one commit (a coalesced batch).
@Suite struct BatchWriteBackTests {
    @Test func aBatchIsOneCommitEvenWhereTwoImagesShareAFile() throws {
        let setup = try WriteBackTests.Setup()
        let writer = WriteBack(settings: setup.settings)
        let api = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2"))
        let worker = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/worker:1.0.0"))
        let unknown = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/unknown:2.0"))
        let result = try writer.bump(
            [
                BumpItem(api, eventID: "evt-a"), BumpItem(worker, eventID: "evt-w2", superseded: ["evt-w1"]),
                BumpItem(unknown, eventID: "evt-u"),
            ], target: setup.target())
        #expect(result.outcome == .pushed)
        #expect(result.unreferenced.map(\.description) == ["ghcr.io/acme/unknown"])
        #expect(try setup.git("rev-list", "--count", "main") == "2")
        // values.yaml names both images: both lines changed in the one commit.
        let numstat = try setup.git("show", "--numstat", "--format=", "main")
        #expect(numstat.contains("2\t2\tenvs/dev/api/values.yaml"))
        #expect(numstat.contains("1\t1\tenvs/dev/kustomization.yaml"))
        let message = try setup.git("log", "-1", "--format=%B", "main")
        // Only what changed is named: two images (the unknown one changed nothing), and only the
        // events written (evt-w1 was superseded, evt-u wrote nothing).
        #expect(message.hasPrefix("Bump 2 images in "))
        #expect(try setup.git("log", "-1", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main") == "evt-a\nevt-w2")

        // A replay of part of the batch next to a new event: only the new one is written.
        let newer = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/worker:1.1.0"))
        let replay = try writer.bump([BumpItem(api, eventID: "evt-a"), BumpItem(newer, eventID: "evt-w3")], target: setup.target())
        #expect(replay.outcome == .pushed)
        #expect(replay.changes.allSatisfy { $0.image == "ghcr.io/acme/worker" })
        #expect(try setup.git("log", "-1", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main") == "evt-w3")
        #expect(try setup.git("log", "-1", "--format=%s", "main") == "Bump ghcr.io/acme/worker to 1.1.0 in \(try setup.target().location)")

        // Every event of the batch already written: nothing to do.
        let again = try writer.bump([BumpItem(api, eventID: "evt-a"), BumpItem(newer, eventID: "evt-w3")], target: setup.target())
        #expect(again.outcome == .upToDate)
        #expect(try setup.git("rev-list", "--count", "main") == "3")
    }

    @Test func aBranchTargetBatchHoldsOneImage() throws {
        let setup = try WriteBackTests.Setup()
        let items = try ["ghcr.io/acme/api:1.4.2", "ghcr.io/acme/worker:1.0.0"].enumerated().map {
            BumpItem(try BumpRequest(ImageReference(parsing: $1)), eventID: "e\($0)")
        }
        #expect(throws: WriteBackError.self) { try WriteBack(settings: setup.settings).bump(items, target: setup.target(mode: .branch)) }
    }
}

/// The update branch of a finished merge request is deleted, unless it moved since.
@Suite struct UpdateBranchCleanupTests {
    @Test func deletedOnlyWhileAtTheCommitTheRequestEndedWith() throws {
        let setup = try WriteBackTests.Setup()
        let writer = WriteBack(settings: setup.settings)
        let target = try setup.target("acc", mode: .branch)
        let image = try ImageName(parsing: "ghcr.io/acme/api")
        _ = try writer.bump(try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: target, eventID: "e1")
        let tip = try setup.git("rev-parse", "imagebump/acc/ghcr.io-acme-api")

        #expect(try writer.deleteUpdateBranch(target: target, image: image, expected: String(repeating: "0", count: 40)) == false)
        #expect(try setup.git("rev-parse", "imagebump/acc/ghcr.io-acme-api") == tip)
        #expect(try writer.deleteUpdateBranch(target: target, image: image, expected: tip))
        #expect(try setup.git("branch", "--list", "imagebump/*").isEmpty)
        #expect(try writer.deleteUpdateBranch(target: target, image: image, expected: tip) == false)  // gone already
        #expect(try setup.git("rev-parse", "main") != tip)  // main untouched
    }
}
