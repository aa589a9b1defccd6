import Git
import Manifests

/// One place an image is written: a repository URL, a branch, the paths inside it, and how
/// the change is delivered.
public struct GitTarget: Sendable {
    /// How a change reaches the branch.
    public enum Mode: String, Sendable {
        /// Push the commit straight to the branch (never forced).
        case commit
        /// Push an update branch (ours alone, replaced on each bump) for a merge request.
        case branch
    }

    public var name: String
    /// The repository's configured name; it names the cache directory.
    public var repository: String
    /// Without credentials in it.
    public var url: String
    public var branch: String
    public var paths: [PathGlob]
    public var mode: Mode
    public var credentials: GitCredentials
    /// A password fetched before each write, for an HTTPS remote whose password expires (a
    /// GitHub App's installation token, an hour): sent as `x-access-token`, it replaces
    /// `credentials.method`.
    public var password: (@Sendable () async throws -> String)?

    public init(
        name: String, repository: String, url: String, branch: String, paths: [PathGlob], mode: Mode,
        credentials: GitCredentials = GitCredentials()
    ) {
        self.name = name
        self.repository = repository
        self.url = url
        self.branch = branch
        self.paths = paths
        self.mode = mode
        self.credentials = credentials
    }

    /// Where the target's files live, for messages: the fixed prefix of its first path
    /// pattern (`envs/dev` for `envs/dev/**`), else the target's name.
    public var location: String {
        guard let pattern = paths.first?.pattern else { return name }
        let fixed = pattern.split(separator: "/").prefix { !$0.contains(where: { "*?[".contains($0) }) }
        return fixed.isEmpty ? name : fixed.joined(separator: "/")
    }

    /// Whether a file takes part.
    func includes(_ path: String) -> Bool { paths.isEmpty || paths.contains { $0.matches(path) } }

    /// Whether a directory may hold files that take part.
    func mayInclude(inside directory: String) -> Bool { paths.isEmpty || paths.contains { $0.mayMatch(inside: directory) } }
}

/// Settings shared by every target's write-back.
public struct WriteBackSettings: Sendable {
    /// Bare repository caches live in `<stateDirectory>/repos/<name>.git`.
    public var stateDirectory: String
    public var author: Identity
    public var committer: Identity
    /// The commit subject; `{image}`, `{tag}`, `{digest}`, `{reference}`, `{target}` and
    /// `{location}` are filled in.
    public var subject: String
    /// Attempts at a non-fast-forward push (each after fetching and redoing the edit).
    public var pushAttempts: Int
    public var extraction: ExtractionOptions
    public var maximumFileSize: Int
    /// An OpenSSH private key (Ed25519 or ECDSA P-256) that signs every commit (`sshsig`).
    public var signingKey: String?

    public static let defaultSubject = "Bump {image} to {tag} in {location}"

    public init(
        stateDirectory: String, author: Identity = Identity(name: "imagebump", email: "imagebump@localhost"), committer: Identity? = nil,
        subject: String = Self.defaultSubject, pushAttempts: Int = 50, extraction: ExtractionOptions = ExtractionOptions(),
        maximumFileSize: Int = 1 << 20
    ) {
        self.stateDirectory = stateDirectory
        self.author = author
        self.committer = committer ?? author
        self.subject = subject
        self.pushAttempts = pushAttempts
        self.extraction = extraction
        self.maximumFileSize = maximumFileSize
    }
}
