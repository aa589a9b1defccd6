import Git

/// Why a bump of one target did not reach its repository. Nothing half-done is pushed.
public struct WriteBackError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// No file in the target references the image.
        case noReferences
        /// The target branch does not exist in the remote.
        case branchMissing
        /// Someone else pushed each time we tried.
        case retriesExhausted
        /// The update branch holds commits that are not ours.
        case notOurs
        /// The state directory cannot hold the repository cache.
        case storage
        /// An edit could not be made or verified.
        case edit
        /// A Git operation failed (see ``gitError``).
        case git
    }

    public let code: Code
    public let target: String
    public let detail: String
    public let gitError: GitError?

    public init(_ code: Code, target: String, detail: String, gitError: GitError? = nil) {
        self.code = code
        self.target = target
        self.detail = detail
        self.gitError = gitError
    }

    public var description: String { "target \(target): \(detail)" }
}
