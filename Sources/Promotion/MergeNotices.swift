import Events
import Forge
import Foundation
import ImageReference
import Journal
import Logging
import Pipeline
import Workers

/// What happens when a merge request of ours ends, whether a forge's webhook said so or the
/// poller read it back: the notice is journaled first (so a crash replays it at the next start),
/// the promotions waiting for that request move on (merged) or stop (closed), and its update
/// branch is deleted while it is still at the request's head commit. A redelivered notice that
/// was handled changes nothing.
public struct MergeNoticeHandler: Sendable {
    let journal: Journal
    let dispatcher: Dispatcher
    let promotions: PromotionEngine?
    /// The route that writes an image to a target.
    let route: @Sendable (_ image: ImageName, _ target: String) -> Route?
    let logger: Logger

    public init(
        journal: Journal, dispatcher: Dispatcher, promotions: PromotionEngine?, route: @escaping @Sendable (ImageName, String) -> Route?,
        logger: Logger = Logger(label: "imagebump.merge-notices", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.journal = journal
        self.dispatcher = dispatcher
        self.promotions = promotions
        self.route = route
        self.logger = logger
    }

    /// Journals a notice from `source` (a receiver, or `poll`); its id, and whether it still has
    /// to be handled (false for a redelivery of one already handled).
    public func record(_ notice: MergeNotice, source: String) async throws(DatabaseError) -> (id: String, pending: Bool) {
        let recorded = try await journal.recordMergeNotice(notice, source: source)
        return (recorded.id, !recorded.done)
    }

    /// Handles a journaled notice, then marks it done — unless no promotion waited for its
    /// request yet (the forge merged before imagebump journaled the request): then it stays
    /// pending, is matched when the request is recorded, and a later notice or poll of the same
    /// request is handled again instead of being taken for a repeat.
    public func handle(_ id: String, _ notice: MergeNotice) async {
        // Merged: the environment runs what the request carried (the tag last written to its branch).
        if notice.merged, let tag = try? await journal.lastWrite(target: notice.target, image: notice.image)?.tag {
            try? await journal.recordDeployment(
                target: notice.target, image: notice.image, tag: tag, via: "merge request #\(notice.number)")
        }
        let matched = await promotions?.ended(notice) ?? true
        await deleteUpdateBranch(notice)
        guard matched else {
            logger.info(
                "merge notice kept: no promotion waits for this request yet",
                metadata: ["forge.mr": "\(notice.number)", "target": "\(notice.target)", "image": "\(notice.image)"])
            return
        }
        do { try await journal.finishMergeNotice(id) } catch {
            logger.error("cannot mark a merge notice handled", metadata: ["notice": "\(id)", "error": "\(error.message)"])
        }
    }

    /// Handles a journaled notice in a task of its own: what the intake calls once it answered
    /// the forge (the intake does nothing after its answer).
    public func submit(_ id: String, _ notice: MergeNotice) {
        Task { await handle(id, notice) }
    }

    /// Handles the notices a previous run journaled but did not finish, in a task of its own (a
    /// promotion moving on writes to Git; the service does not wait for that to start serving).
    @discardableResult
    public func resume() async throws(DatabaseError) -> Task<Void, Never> {
        let unfinished = try await journal.unfinishedMergeNotices()
        return Task { for (id, notice) in unfinished { await handle(id, notice) } }
    }

    private func deleteUpdateBranch(_ notice: MergeNotice) async {
        guard let image = try? ImageName(parsing: notice.image), let head = notice.headCommit,
            let route = route(image, notice.target), route.target.mode == .branch
        else { return }
        let deleted = await dispatcher.cleanUp(image: image, route: route, expected: head)
        logger.info(
            deleted ? "update branch deleted" : "update branch kept (it moved, or is gone)",
            metadata: ["branch": "\(notice.branch)", "forge.mr": "\(notice.number)"])
    }
}
