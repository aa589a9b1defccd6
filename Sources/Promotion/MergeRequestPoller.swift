import Events
import Forge
import Foundation
import ImageReference
import Journal
import Logging
import Pipeline
import Workers

/// The fallback for `merged` gates when a forge's webhook is lost or not configured: asks the
/// forge, for every promotion waiting for a merge, whether its merge request was merged or
/// closed, and hands what ended to the ``MergeNoticeHandler`` as if the webhook had said it.
public struct MergeRequestPoller: Sendable {
    let promotions: PromotionEngine
    let notices: MergeNoticeHandler
    let route: @Sendable (_ image: ImageName, _ target: String) -> Route?
    let logger: Logger

    public init(
        promotions: PromotionEngine, notices: MergeNoticeHandler, route: @escaping @Sendable (ImageName, String) -> Route?,
        logger: Logger = Logger(label: "imagebump.merge-poll", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.promotions = promotions
        self.notices = notices
        self.route = route
        self.logger = logger
    }

    /// Polls every `interval` until the task is cancelled.
    /// The first round comes soon after start (within `firstRound`), so a restart catches up
    /// with merges missed while it was down in seconds, not a whole interval later.
    public func run(every interval: Duration, firstRound: Duration = .seconds(2)) async {
        var wait = min(interval, firstRound)
        while !Task.isCancelled {
            try? await Task.sleep(for: wait)
            guard !Task.isCancelled else { return }
            _ = await pollOnce()
            wait = interval
        }
    }

    /// One round: each waiting promotion's merge request is read once (one call per request);
    /// returns the notices handled. A forge that fails is logged and asked again next round.
    @discardableResult
    public func pollOnce() async -> [MergeNotice] {
        let waiting: [PromotionRecord]
        do { waiting = try await promotions.waitingForMerge() } catch {
            logger.error("cannot read the promotions waiting for a merge", metadata: ["error": "\(error.message)"])
            return []
        }
        var asked: Set<String> = []
        var ended: [MergeNotice] = []
        for record in waiting {
            guard let number = record.mergeRequest?.number, asked.insert("\(record.environment) \(record.image) \(number)").inserted,
                let image = try? ImageName(parsing: record.image), let route = route(image, record.environment), let forge = route.forge
            else { continue }
            let status: MergeRequestStatus
            do { status = try await forge.mergeRequestStatus(number) } catch {
                logger.warning(
                    "cannot read a merge request's state; asking again next round",
                    metadata: ["promotion": "\(record.id)", "forge.mr": "\(number)", "error": "\(error)"])
                continue
            }
            guard status.state != .open else { continue }
            let notice = MergeNotice(
                target: record.environment, image: record.image, number: number, merged: status.state == .merged,
                branch: WriteBack.updateBranch(target: record.environment, image: image), headCommit: status.headCommit)
            do {
                let (id, pending) = try await notices.record(notice, source: "poll")
                if pending { await notices.handle(id, notice) }
                ended.append(notice)
            } catch {
                logger.error("cannot journal a merge notice", metadata: ["error": "\(error.message)"])
            }
        }
        return ended
    }
}
