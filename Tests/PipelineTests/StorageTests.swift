import Foundation
import Git
import ImageReference
import Manifests
import Pipeline
import TestSupport
import Testing

/// The state directory on a full disk (a tiny tmpfs, where this machine lets tests mount one),
/// and a `file://` remote.
@Suite struct StorageTests {
    static let fixture = fixturesDirectory().appendingPathComponent("env-repo")

    /// Mounts a tmpfs of `size` at a new directory; nil where mounting is not permitted.
    static func tinyFilesystem(size: String) -> URL? {
        guard let directory = try? TemporaryDirectory.make("imagebump-tinyfs") else { return nil }
        return run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory.path]) ? directory : nil
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) -> Bool {
        (try? Command.run(executable, arguments))?.status == 0
    }

    static let canMount: Bool = {
        guard let probe = tinyFilesystem(size: "4k") else { return false }
        run("/bin/umount", [probe.path])
        return true
    }()

    func target(_ url: String) throws -> GitTarget {
        GitTarget(name: "dev", repository: "env", url: url, branch: "main", paths: [try PathGlob("envs/dev/**")], mode: .commit)
    }

    @Test(.enabled(if: canMount, "needs permission to mount a tmpfs"))
    func aFullDiskIsAClearErrorAndNothingIsPushed() throws {
        let remote = try GitFixture.bareRepository(from: Self.fixture)
        let before = try GitFixture.git(["--git-dir", remote.path, "rev-parse", "main"])
        let disk = try #require(Self.tinyFilesystem(size: "8k"))
        defer { Self.run("/bin/umount", [disk.path]) }
        let writer = WriteBack(settings: WriteBackSettings(stateDirectory: disk.path))
        do {
            _ = try writer.bump(
                try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: target(remote.path), eventID: "full")
            Issue.record("expected the full disk to stop the bump")
        } catch let error as WriteBackError {
            #expect([.storage, .git].contains(error.code))
            #expect(error.description.lowercased().contains("no space left on device"), "\(error)")
        }
        #expect(try GitFixture.git(["--git-dir", remote.path, "rev-parse", "main"]) == before)
    }

    @Test func fileURLsWork() throws {
        let remote = try GitFixture.bareRepository(from: Self.fixture)
        let state = try TemporaryDirectory.make("imagebump-state")
        let result = try WriteBack(settings: WriteBackSettings(stateDirectory: state.path))
            .bump(
                try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: target("file://\(remote.path)"), eventID: "file"
            )
        #expect(result.outcome == .pushed)
        #expect(try GitFixture.git(["--git-dir", remote.path, "rev-parse", "main"]) == result.commit?.hex)
    }
}
