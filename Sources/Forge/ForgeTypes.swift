/// A merge request (pull request) as the forge reports it.
public struct MergeRequest: Sendable, Hashable {
    /// The number people use: GitHub/Gitea PR number, GitLab iid, Bitbucket id.
    public let number: Int
    public let url: String
    public let title: String
    public let body: String
    public let head: String
    public let base: String
    /// GitHub's GraphQL node id (for auto-merge); nil elsewhere.
    public let nodeID: String?

    public init(number: Int, url: String, title: String, body: String, head: String, base: String, nodeID: String? = nil) {
        self.number = number
        self.url = url
        self.title = title
        self.body = body
        self.head = head
        self.base = base
        self.nodeID = nodeID
    }
}

/// Where a merge request stands, as read back from the forge (the fallback when its webhook
/// never arrives).
public struct MergeRequestStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case open, merged
        /// Closed without merging (GitLab `closed`/`locked`, Bitbucket `DECLINED`/`SUPERSEDED`).
        case closed
    }

    public let number: Int
    public let state: State
    /// The commit the request's head branch is at (or ended at).
    public let headCommit: String?

    public init(number: Int, state: State, headCommit: String?) {
        self.number = number
        self.state = state
        self.headCommit = headCommit
    }
}

/// What a merge request should say and how it should be handled.
/// How a merge request is merged (`mergeRequest.mergeMethod`).
public enum MergeMethod: String, Sendable, Hashable, CaseIterable {
    case merge, squash, rebase
}

public struct MergeRequestContent: Sendable, Hashable {
    public var title: String
    public var body: String
    /// The update branch.
    public var head: String
    /// The branch it merges into.
    public var base: String
    public var labels: [String] = []
    public var reviewers: [String] = []
    public var draft = false
    public var autoMerge = false
    /// How auto-merge merges: a merge commit, a squash, or a rebase (the repository must allow it).
    public var mergeMethod = MergeMethod.merge
    /// GitLab: delete the update branch when merged.
    public var removeSourceBranch = true
    /// A hidden marker in the body that identifies the request as ours, e.g.
    /// `<!-- imagebump:target=dev image=ghcr.io/acme/api -->`.
    public var marker: String
    /// Body lines starting with this (the triggering event's time and id) are not compared:
    /// a new event asking for what the request already says changes nothing.
    public var volatileLinePrefix: String?

    /// The body as compared with an open request's body.
    public func comparable(_ body: String) -> String {
        guard let prefix = volatileLinePrefix else { return body }
        return body.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix(prefix) }.joined(separator: "\n")
    }

    public init(title: String, body: String, head: String, base: String, marker: String) {
        self.title = title
        self.body = body
        self.head = head
        self.base = base
        self.marker = marker
    }
}

/// A forge call that failed: the operation, the HTTP status, and the forge's own message.
public struct ForgeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unauthorized, forbidden, notFound, validation, notAllowed, rateLimited, server, transport, unexpected
        /// A create found an open request for the same branches (`existing` names it when the
        /// forge does).
        case alreadyExists
        /// A 409 anywhere else: a head that moved (GitHub merge), a merge conflict (GitLab
        /// merge), a base that changed (Gitea edit), a merge already scheduled (Gitea).
        case conflict
    }

    public let code: Code
    public let operation: String
    public let status: Int?
    public let message: String
    /// For `.alreadyExists`: the number of the open request, when the forge names it.
    public let existing: Int?

    public init(_ code: Code, operation: String, status: Int?, message: String, existing: Int? = nil) {
        self.code = code
        self.operation = operation
        self.status = status
        self.message = message
        self.existing = existing
    }

    public var description: String { "\(operation) failed\(status.map { " (HTTP \($0))" } ?? ""): \(message)" }
}

/// The intent-level calls imagebump makes on any forge.
public protocol Forge: Sendable {
    /// The open merge request from `head` into `base`, or one whose body carries `marker`.
    func findOpenMergeRequest(head: String, base: String, marker: String) async throws(ForgeError) -> MergeRequest?
    /// Creates a merge request; throws `.alreadyExists` (with the existing number when the
    /// forge says it) when one is open for the branch.
    func openMergeRequest(_ content: MergeRequestContent) async throws(ForgeError) -> MergeRequest
    func updateMergeRequest(_ number: Int, title: String, body: String) async throws(ForgeError) -> MergeRequest
    func addLabels(_ number: Int, _ labels: [String]) async throws(ForgeError)
    func requestReviewers(_ number: Int, _ reviewers: [String]) async throws(ForgeError)
    func enableAutoMerge(_ request: MergeRequest, method: MergeMethod) async throws(ForgeError)
    func comment(_ number: Int, _ text: String) async throws(ForgeError)
    /// Whether the request is open, merged or closed, read from the forge.
    func mergeRequestStatus(_ number: Int) async throws(ForgeError) -> MergeRequestStatus
    /// Closes an open request without merging it.
    func closeMergeRequest(_ number: Int) async throws(ForgeError)
}

extension Forge {
    /// Auto-merge with a merge commit.
    public func enableAutoMerge(_ request: MergeRequest) async throws(ForgeError) { try await enableAutoMerge(request, method: .merge) }
}
