import Git
import ImageReference
import Manifests
import Policy

/// What a bump of one target did.
public struct WriteBackResult: Sendable {
    public enum Outcome: String, Sendable {
        /// A commit was pushed.
        case pushed
        /// Every reference already had the requested tag: no commit, no push.
        case upToDate
        /// Nothing was written: ``updates`` shows what would change.
        case dryRun
    }

    public let outcome: Outcome
    public let target: String
    /// The branch the commit went to (the target branch, or the update branch).
    public let branch: String
    public let commit: ObjectID?
    public let changes: [Change]
    /// Per-file edits (for diffs); empty when up to date.
    public let updates: [FileUpdate]
    /// How many push attempts it took (more than 1 after a race).
    public let attempts: Int
    /// Images of the batch that no file of the target references (their events failed here).
    public var unreferenced: [ImageName] = []
    /// Images of the batch whose policy refused every change, with the reason ("older than
    /// current 1.4.3"): their events are skipped here.
    public var skipped: [ImageName: String] = [:]
    /// Files whose edit was refused (the edited bytes did not verify), with the reason; the
    /// other files were written.
    public var refused: [String: String] = [:]
}

/// One image's update in a batch, and the events it answers: the event that asked for this
/// tag, and earlier events for the same image that it supersedes within the batch.
public struct BumpItem: Sendable, Hashable {
    public let request: BumpRequest
    public let eventID: String
    public let superseded: [String]
    /// Ranks tags: a reference is never moved to a tag ranking below its current one.
    public let policy: TagPolicy

    /// A revert: the reference may move to a tag ranking below its current one.
    public let force: Bool
    /// The commit's subject instead of the template's, when this item is written alone (a
    /// revert says why: "Revert … to 1.4.1 in dev (smoke failed for 1.4.2)").
    public let subject: String?

    public init(
        _ request: BumpRequest, eventID: String, superseded: [String] = [], policy: TagPolicy = .any, force: Bool = false,
        subject: String? = nil
    ) {
        self.request = request
        self.eventID = eventID
        self.superseded = superseded
        self.policy = policy
        self.force = force
        self.subject = subject
    }

    /// Every event this item answers, oldest first.
    public var eventIDs: [String] { superseded + [eventID] }
}
