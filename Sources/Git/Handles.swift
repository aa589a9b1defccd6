import CLibGit2

/// Owns one libgit2 object handle (`git_commit*`, `git_tree*`, `git_blob*`, `git_remote*`,
/// `git_reference*`) and frees it with the matching function when released.
final class GitHandle {
    let pointer: OpaquePointer
    private let release: (OpaquePointer) -> Void

    init(_ pointer: OpaquePointer, release: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.release = release
    }

    deinit { release(pointer) }
}

/// Owns a `git_signature*`.
final class SignatureHandle {
    let pointer: UnsafeMutablePointer<git_signature>

    init(_ identity: Identity) throws(GitError) {
        var signature: UnsafeMutablePointer<git_signature>?
        try check(git_signature_now(&signature, identity.name, identity.email), "git_signature_now")
        guard let signature else { throw GitError(.other, operation: "git_signature_now", message: "no signature returned") }
        pointer = signature
    }

    deinit { git_signature_free(pointer) }
}

/// A commit author or committer.
public struct Identity: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    public var description: String { "\(name) <\(email)>" }
}
