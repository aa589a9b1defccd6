import Foundation
import TestSupport
import Testing

/// Runs the built `imagebump` binary the way a person would.
@Suite struct CommandLineTests {
    static let fixtures = fixturesDirectory()
    static let repo = fixtures.appendingPathComponent("env-repo")

    static var binary: URL {
        let directory =
            Bundle.main.bundleURL.hasDirectoryPath && Bundle.main.bundleURL.pathExtension == "xctest"
            ? Bundle.main.bundleURL.deletingLastPathComponent() : Bundle.main.bundleURL
        return directory.appendingPathComponent("imagebump")
    }

    /// Runs the binary on a thread of its own (never on one of the two cooperative threads
    /// the in-process servers of other suites need).
    func run(_ arguments: [String], in directory: URL? = nil) async throws -> Command.Result {
        try await Command.running(Self.binary.path, arguments, in: directory)
    }

    func fixture(_ name: String) throws -> String {
        try String(contentsOf: Self.fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func scanPrintsSortedJSONLines() async throws {
        let result = try await run(["scan", "ghcr.io/acme/api", "--repo", Self.repo.path, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (try fixture("scan-api.jsonl")))
        for line in result.stdout.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["image"] as? String == "ghcr.io/acme/api")
        }
    }

    @Test func scanAllWithPathsAndTextFormat() async throws {
        let result = try await run(
            ["scan", "--all", "--repo", Self.repo.path, "--paths", "envs/dev/**", "--config", "../../../config/imagebump.yaml"],
            in: Self.fixtures)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (try fixture("scan-all-dev.txt")))
    }

    @Test func skippedFilesAreSummedUpByReasonAndABumpThatFindsNothingSaysWhereItDidNotLook() async throws {
        let chart = try TemporaryDirectory.make("imagebump-chart")
        try FileManager.default.createDirectory(at: chart.appendingPathComponent("templates"), withIntermediateDirectories: true)
        for name in ["a", "b", "c", "d", "e"] {
            try "image: {{ .Values.image }} # ghcr.io/acme/web\n".write(
                to: chart.appendingPathComponent("templates/\(name).yaml"), atomically: true, encoding: .utf8)
        }
        try "image: {repository: ghcr.io/acme/api, tag: 1.0.0}\n".write(
            to: chart.appendingPathComponent("values.yaml"), atomically: true, encoding: .utf8)
        let scan = try await run(["scan", "--all", "--repo", chart.path, "--log-level", "notice"])
        #expect(scan.status == 0, "\(scan.stderr)")
        let lines = scan.stderr.split(separator: "\n").filter { $0.contains("skipped") }
        #expect(lines.count == 1, "\(scan.stderr)")
        #expect(
            lines.first?.contains(
                "skipped 5 files: a Helm chart template ({{ }} under templates/) — templates/a.yaml, templates/b.yaml, templates/c.yaml, … (2 more; --verbose names them)"
            ) == true, "\(scan.stderr)")
        let verbose = try await run(["scan", "--all", "--repo", chart.path, "--verbose", "--log-level", "notice"])
        #expect(verbose.stderr.contains("templates/e.yaml"))
        let bump = try await run(["bump", "ghcr.io/acme/web:2.0.0", "--repo", chart.path])
        #expect(bump.status == 1)
        #expect(bump.stderr.contains("nothing references the image; 5 files that may were skipped: templates/a.yaml (a Helm chart template"), "\(bump.stderr)")
    }

    @Test func bumpPrintsTheDiffAndIsIdempotent() async throws {
        let work = try GoldenDirectory.copyToTemporary(Self.repo)
        defer { try? FileManager.default.removeItem(at: work) }
        let dryRun = try await run(["bump", "ghcr.io/acme/api:1.4.2", "--repo", work.path, "--paths", "envs/dev/**", "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout == (try fixture("bump-dev.diff")))
        #expect(GoldenDirectory.differences(actual: work, expected: Self.repo).isEmpty, "dry run wrote files")

        let bump = try await run(["bump", "ghcr.io/acme/api:1.4.2", "--repo", work.path, "--paths", "envs/dev/**"])
        #expect(bump.status == 0)
        #expect(bump.stdout == dryRun.stdout)
        #expect(GoldenDirectory.differences(actual: work, expected: Self.repo).count == 2)

        let again = try await run(["bump", "ghcr.io/acme/api:1.4.2", "--repo", work.path, "--paths", "envs/dev/**"])
        #expect(again.status == 0)
        #expect(again.stdout == "already up to date: ghcr.io/acme/api:1.4.2\n")
    }

    @Test func exitCodes() async throws {
        let nothing = try await run(["bump", "ghcr.io/acme/unknown:1.0", "--repo", Self.repo.path])
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("nothing references the image"))

        let usage = try await run(["bump", "ghcr.io/acme/api", "--repo", Self.repo.path])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("names no tag or digest"))

        let badImage = try await run(["scan", "GHCR.io/Acme/Api"])
        #expect(badImage.status == 2)
        #expect(badImage.stderr.contains("repository names must be lowercase"))

        let missingRepo = try await run(["scan", "nginx", "--repo", "/nonexistent/dir"])
        #expect(missingRepo.status == 1)
        #expect(missingRepo.stderr.contains("it is not a directory"))
    }

    @Test func validateReportsEveryProblemWithExitCodeTwo() async throws {
        let invalid = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "ConfigurationTests/Fixtures/invalid.yaml")
        let result = try await run(["validate", "--config", invalid.path])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 19)
        #expect(result.stdout.hasSuffix(": 19 problems\n"))

        // The example names eight secrets nobody set here: validate says which, at their lines...
        let unset = try await run(["validate", "--config", "../../../config/imagebump.yaml"], in: Self.fixtures)
        #expect(unset.status == 2)
        #expect(unset.stdout == "../../../config/imagebump.yaml: 8 problems\n")
        #expect(unset.stderr.contains("secret: the environment variable"), "\(unset.stderr)")
        // ...and --no-secrets checks everything else, for CI machines without them.
        let valid = try await run(["validate", "--config", "../../../config/imagebump.yaml", "--no-secrets"], in: Self.fixtures)
        #expect(valid.status == 0)
        #expect(valid.stdout == "../../../config/imagebump.yaml: valid (2 repos, 3 targets, 2 images)\n")
    }

    @Test func policyTestExplainsEachTagPerTarget() async throws {
        let result = try await run(
            [
                "policy", "test", "ghcr.io/acme/api", "1.4.3", "1.5.0", "1.4.10", "latest", "1.5.0-rc.1", "--config",
                "../../../config/imagebump.yaml",
            ],
            in: Self.fixtures)
        #expect(result.status == 0)
        #expect(result.stdout == (try fixture("policy-test-api.txt")))
        let unknown = try await run(
            ["policy", "test", "ghcr.io/acme/nope", "1.0", "--config", "../../../config/imagebump.yaml"], in: Self.fixtures)
        #expect(unknown.status == 1)
        #expect(unknown.stdout == "ghcr.io/acme/nope: no image with this name is configured; events for it are ignored\n")
    }

    @Test func bumpSaysWhatItCouldNotWriteAndExitsOne() async throws {
        let root = try TemporaryDirectory.make("imagebump-unwritable")
        try Data("image: \"ghcr.io/acme/api:1.0.\\u0030\"\n".utf8).write(to: root.appendingPathComponent("a.yaml"))
        try Data("image: ghcr.io/acme/api:1.0.0\n".utf8).write(to: root.appendingPathComponent("b.yaml"))
        let result = try await run(["bump", "ghcr.io/acme/api:1.0.1", "--repo", root.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("+image: ghcr.io/acme/api:1.0.1"))
        #expect(result.stderr.contains("msg=\"not written\" file=a.yaml reason=\"line 1: its value is not written on one line byte for byte"))
        let scan = try await run(["scan", "ghcr.io/acme/api", "--repo", root.path])
        #expect(scan.stdout.contains("a.yaml:1:8 image ghcr.io/acme/api:1.0.0 (not editable: escaped or multi-line)"))
    }

    @Test func jsonLogsOnRequest() async throws {
        let result = try await run(["scan", "--all", "--repo", Self.repo.path, "--log-format", "json", "--log-level", "debug"])
        let last = try #require(result.stderr.split(separator: "\n").last)
        let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        #expect(object?["msg"] as? String == "scan done")
        #expect(object?["files.considered"] as? Int == 7)  // a number, not text
    }
}
