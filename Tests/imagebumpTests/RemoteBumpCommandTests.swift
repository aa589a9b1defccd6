import Foundation
import TestSupport
import Testing

/// `imagebump bump --config` against a real bare repository.
@Suite struct RemoteBumpCommandTests {
    let cli = CommandLineTests()

    func configured() throws -> (config: URL, remote: URL) {
        let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
        let state = try TemporaryDirectory.make("imagebump-state")
        let template = try String(contentsOf: CommandLineTests.fixtures.appendingPathComponent("remote-config.yaml"), encoding: .utf8)
        let config = state.appendingPathComponent("imagebump.yaml")
        try template.replacingOccurrences(of: "REMOTE", with: remote.path).replacingOccurrences(
            of: "STATE", with: state.appendingPathComponent("state").path
        )
        .write(to: config, atomically: true, encoding: .utf8)
        return (config, remote)
    }

    @Test func bumpsEveryTargetAndPrintsCommitAndBranch() async throws {
        let (config, remote) = try configured()
        let run = try await cli.run(["bump", "ghcr.io/acme/api:1.4.2", "--config", config.path, "--event-id", "evt-cli"])
        #expect(run.status == 0, "\(run.stderr)")
        let main = try GitFixture.git(["--git-dir", remote.path, "rev-parse", "--short=12", "main"])
        let update = try GitFixture.git(["--git-dir", remote.path, "rev-parse", "--short=12", "imagebump/acc/ghcr.io-acme-api"])
        #expect(
            run.stdout == "dev: pushed \(main) to main (2 changes)\nacc: pushed \(update) to imagebump/acc/ghcr.io-acme-api (2 changes)\n")
        #expect(
            try GitFixture.git(["--git-dir", remote.path, "log", "-1", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"])
                == "evt-cli")

        let again = try await cli.run(["bump", "ghcr.io/acme/api:1.4.2", "--config", config.path, "--target", "dev"])
        #expect(again.status == 0)
        #expect(again.stdout == "dev: already up to date on main\n")
    }

    @Test func dryRunPushesNothing() async throws {
        let (config, remote) = try configured()
        let before = try GitFixture.git(["--git-dir", remote.path, "rev-parse", "main"])
        let run = try await cli.run(["bump", "ghcr.io/acme/api:1.4.2", "--config", config.path, "--target", "dev", "--dry-run"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("dev: would commit to main:\n--- a/envs/dev/api/deployment.yaml\n"))
        #expect(try GitFixture.git(["--git-dir", remote.path, "rev-parse", "main"]) == before)
    }

    @Test func unknownImagesAndTargetsAreUsageErrors() async throws {
        let (config, _) = try configured()
        let image = try await cli.run(["bump", "ghcr.io/acme/other:1.0", "--config", config.path])
        #expect(image.status == 2)
        #expect(image.stderr.contains("is not listed under images"))
        let target = try await cli.run(["bump", "ghcr.io/acme/api:1.0", "--config", config.path, "--target", "prd"])
        #expect(target.status == 2)
        #expect(target.stderr.contains("its targets are dev, acc"))
    }

    @Test func aFailedPushExitsOneAndSaysWhy() async throws {
        let (config, _) = try configured()
        let broken = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "url: /", with: "url: /nonexistent/")
        try broken.write(to: config, atomically: true, encoding: .utf8)
        let run = try await cli.run(["bump", "ghcr.io/acme/api:1.4.2", "--config", config.path, "--target", "dev"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("target dev: cannot fetch /nonexistent/"))
    }
}
