import Foundation

/// Real Git repositories for tests, made and inspected with the `git` command line (tests
/// may run programs; the product never does).
public enum GitFixture {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Runs git and returns its standard output (trimmed); throws with stderr on failure.
    @discardableResult
    public static func git(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_NAME"] = "Test Person"
        env["GIT_AUTHOR_EMAIL"] = "person@example.com"
        env["GIT_COMMITTER_NAME"] = "Test Person"
        env["GIT_COMMITTER_EMAIL"] = "person@example.com"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["HOME"] = FileManager.default.temporaryDirectory.path
        for (key, value) in environment { env[key] = value }
        return try Command.succeed("/usr/bin/git", arguments, in: directory, environment: env).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// A bare repository whose `main` holds one commit with the files of `directory`;
    /// `executable` paths get mode 100755.
    public static func bareRepository(from directory: URL, executable: [String] = []) throws -> URL {
        let root = try TemporaryDirectory.make("imagebump-git")
        let bare = root.appendingPathComponent("remote.git")
        let work = try GoldenDirectory.copyToTemporary(directory)
        defer { try? FileManager.default.removeItem(at: work) }
        try git(["init", "-q", "--bare", "-b", "main", bare.path])
        try git(["init", "-q", "-b", "main"], in: work)
        try git(["add", "-A"], in: work)
        for path in executable { try git(["update-index", "--chmod=+x", path], in: work) }
        try git(["commit", "-q", "-m", "initial"], in: work)
        try git(["push", "-q", bare.path, "main"], in: work)
        return bare
    }

    /// Clones `bare`, lets `change` edit the worktree, commits and pushes to `branch`.
    public static func pushChange(to bare: URL, branch: String = "main", message: String, change: (URL) throws -> Void) throws {
        let work = try TemporaryDirectory.make("imagebump-clone")
        defer { try? FileManager.default.removeItem(at: work) }
        try git(["clone", "-q", "-b", branch, bare.path, work.path])
        try change(work)
        try git(["add", "-A"], in: work)
        try git(["commit", "-q", "-m", message], in: work)
        try git(["push", "-q", "origin", branch], in: work)
    }
}
