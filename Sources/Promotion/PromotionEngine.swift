import Events
import Forge
import Foundation
import ImageReference
import Journal
import Logging
import Manifests
import Pipeline
import Workers

/// Walks tags through promotion chains. A tag written by an image event to a chain's first
/// environment starts a promotion; each environment's gate (smoke checks, a merged merge
/// request, an approval) must pass before the tag is written to the next environment, through
/// the dispatcher's lane for that repository. Every state is journaled first, so a restart
/// resumes each promotion where it was; a failed gate stops the chain with the reason.
public actor PromotionEngine {
    let journal: Journal
    let dispatcher: Dispatcher
    let chains: [PromotionChain]
    /// The route that writes an image to a target (the dispatcher's routes see only entry targets).
    let route: @Sendable (_ image: ImageName, _ target: String) -> Route?
    let logger: Logger
    /// Promotions being moved on by an approval or a merge now (a replayed request waits its turn).
    private var moving: Set<String> = []
    /// Promotions whose smoke checks are running, and the tasks running them.
    var smoking: [String: Task<Void, Never>] = [:]

    public init(
        journal: Journal, dispatcher: Dispatcher, chains: [PromotionChain], route: @escaping @Sendable (ImageName, String) -> Route?,
        logger: Logger = Logger(label: "imagebump.promotion", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.journal = journal
        self.dispatcher = dispatcher
        self.chains = chains
        self.route = route
        self.logger = logger
    }

    /// Listens to the dispatcher and resumes the promotions a previous run left open.
    public func start() async throws(DatabaseError) {
        await dispatcher.observe { [weak self] eventID, request, target, previousTag, mergeRequest in
            await self?.written(eventID: eventID, request: request, target: target, previousTag: previousTag, mergeRequest: mergeRequest)
        }
        for record in try await journal.promotions(open: true) { resume(record) }
    }

    /// A chain's entry environment got a new tag: start its promotion.
    func written(eventID: String, request: BumpRequest, target: String, previousTag: String?, mergeRequest: MergeRequestReference?) async {
        guard let tag = request.tag else { return }  // digest-only updates are not promoted
        for chain in chains where chain.entry == target && chain.images.contains(request.image.description) {
            do {
                let (record, start) = try await journal.startPromotion(
                    chain: chain.name, image: request.image.description, tag: tag, digest: request.digest?.description, eventID: eventID,
                    environment: target, state: Self.waiting(chain.steps[0].gate(0)),
                    detail: Self.waitingDetail(chain.steps[0], gate: 0, tag: tag, mergeRequest: mergeRequest),
                    previousTag: previousTag, mergeRequest: mergeRequest)
                guard start != .existing else { continue }
                await supersedeGating(in: target, of: chain.name, image: record.image, by: record)
                var metadata: Logger.Metadata = [
                    "promotion": "\(record.id)", "image": "\(record.image)", "tag": "\(tag)", "environment": "\(target)",
                    "chain": "\(chain.name)", "event.id": "\(eventID)",
                ]
                if case .restarted(let was) = start { metadata["was"] = "\(was.rawValue)" }
                logger.info(start == .new ? "promotion started" : "promotion started again", metadata: metadata)
                // In a task of its own (resume): the dispatcher's lane that told us waits for this call.
                resume(record)
                await matchPendingNotices(record)
            } catch {
                logger.error("cannot journal a promotion", metadata: ["chain": "\(chain.name)", "error": "\(error)"])
            }
        }
    }

    /// `POST /v1/promotions/ID/approve`: moves a promotion waiting for approval on.
    public func approve(_ id: String) async throws(PromotionError) -> PromotionRecord {
        let record = try await operated(id)
        guard record.state == .waitingForApproval, moving.insert(id).inserted else {
            throw PromotionError(.wrongState, "promotion \(id) is \(record.state.rawValue), not waiting for approval")
        }
        let moved = await passed(record, because: "approved in \(record.environment)")
        await release(id)
        return moved ?? record
    }

    /// `POST /v1/promotions/ID/retry`: a failed promotion runs its environment's gate again
    /// (after a flaky smoke check, say), and moves on from there as if it had just arrived.
    public func retry(_ id: String) async throws(PromotionError) -> PromotionRecord {
        let record = try await operated(id)
        guard record.state == .failed, let chain = chain(record), chain.steps.indices.contains(record.step), moving.insert(id).inserted
        else { throw PromotionError(.wrongState, "promotion \(id) is \(record.state.rawValue); only failed promotions are retried") }
        let step = chain.steps[record.step]
        let again: PromotionRecord?
        do {
            defer { moving.remove(id) }
            again = try? await update(
                id, step: record.step, gate: record.gate, environment: record.environment, state: Self.waiting(step.gate(record.gate)),
                detail: "retry requested; " + Self.waitingDetail(step, gate: record.gate, tag: record.tag, mergeRequest: record.mergeRequest))
        }
        guard let again else { throw PromotionError(.journalUnavailable, "the journal cannot be written right now; try again shortly") }
        if case .none = step.gate(record.gate) { return await advance(again, because: "retried; no gate in \(record.environment)") ?? again }
        resume(again)
        await matchPendingNotices(again)
        return again
    }

    /// `POST /v1/promotions/ID/cancel`: an open promotion stops where it is; nothing more is
    /// written for it (a smoke check under way ends without moving it on).
    public func cancel(_ id: String) async throws(PromotionError) -> PromotionRecord {
        let record = try await operated(id)
        guard ![.done, .failed, .superseded, .cancelled].contains(record.state) else {
            throw PromotionError(.wrongState, "promotion \(id) is \(record.state.rawValue) already")
        }
        guard
            let cancelled = try? await update(
                id, step: record.step, environment: record.environment, state: .cancelled,
                detail: "cancelled by an operator in \(record.environment) (it was \(record.state.rawValue))")
        else { throw PromotionError(.journalUnavailable, "the journal cannot be written right now; try again shortly") }
        return cancelled
    }

    /// The promotion an operator names, or the error to answer.
    private func operated(_ id: String) async throws(PromotionError) -> PromotionRecord {
        let record: PromotionRecord?
        do { record = try await journal.promotion(id) } catch {
            logger.error("the journal cannot answer", metadata: ["error": "\(error)"])
            throw PromotionError(.journalUnavailable, "the journal cannot be read right now; try again shortly", underlying: error)
        }
        guard let record else { throw PromotionError(.notFound, "no promotion has the id \(id)") }
        return record
    }

    /// A merge request of ours ended (forge webhook or poll): the promotions waiting for it move
    /// on when it was merged, and stop when it was closed without merging. A promotion that knows
    /// its request's number heeds only a notice about that request. When several tags waited
    /// for one request (it was updated in place), it carried the last one written: that one moves
    /// on, the others are superseded by it.
    /// Returns whether it moved any promotion: a notice that matched none (the forge merged
    /// before the request was journaled, or before an earlier gate of the step passed) is kept
    /// and matched when the promotion waits for that request (``matchPendingNotices(_:)``).
    @discardableResult
    public func ended(_ notice: MergeNotice) async -> Bool {
        guard let open = try? await journal.promotions(open: true) else { return false }
        let waiting = open.filter { record in
            record.state == .waitingForMerge && record.environment == notice.target && record.image == notice.image
                && (record.mergeRequest.map { $0.number == notice.number } ?? true)
        }.sorted { ($0.updatedAt, $0.id) > ($1.updatedAt, $1.id) }  // the last written first
        defer { if !waiting.isEmpty { logger.info("merge seen", metadata: ["forge.mr": "\(notice.number)", "target": "\(notice.target)", "merged": "\(notice.merged)"]) } }
        var applied = false
        for (index, record) in waiting.enumerated() {
            // Being moved on right now (an approval, a replayed webhook): not this notice's to apply;
            // it stays pending and is matched once that move is over.
            guard moving.insert(record.id).inserted else { continue }
            applied = true
            if !notice.merged {
                _ = try? await update(
                    record.id, step: record.step, environment: record.environment, state: .failed,
                    detail: "its merge request #\(notice.number) in \(notice.target) was closed without merging; the chain stops here")
            } else if index == 0 {
                _ = await passed(record, because: "its merge request #\(notice.number) in \(notice.target) was merged")
            } else {
                _ = try? await update(
                    record.id, step: record.step, environment: record.environment, state: .superseded,
                    detail: "superseded by \(waiting[0].tag): merge request #\(notice.number) in \(notice.target) carried it when merged")
            }
            await release(record.id)
        }
        return applied
    }

    /// A move of a promotion is over: a notice that came for it meanwhile (kept pending) is
    /// applied now.
    private func release(_ id: String) async {
        moving.remove(id)
        if let record = try? await journal.promotion(id) { await matchPendingNotices(record) }
    }

    /// A promotion now waits for its merge request: a notice about that request that came
    /// earlier (kept unmatched) is applied now, and marked handled.
    func matchPendingNotices(_ record: PromotionRecord) async {
        guard record.state == .waitingForMerge, let number = record.mergeRequest?.number,
            let pending = try? await journal.unfinishedMergeNotices()
        else { return }
        for (id, notice) in pending where notice.target == record.environment && notice.image == record.image && notice.number == number {
            if await ended(notice) { try? await journal.finishMergeNotice(id) }
        }
    }

    /// The promotions waiting for a merge request to be merged, oldest first.
    public func waitingForMerge() async throws(DatabaseError) -> [PromotionRecord] {
        try await journal.promotions(open: true, limit: 1000).filter { $0.state == .waitingForMerge }.reversed()
    }

    // MARK: - Steps

    private func chain(_ record: PromotionRecord) -> PromotionChain? { chains.first { $0.name == record.chain } }

    /// Continues a promotion from its journaled state (at start, or when it reached a new
    /// environment): runs smoke checks, moves on past an environment without a gate, finishes an
    /// interrupted write; merges and approvals are waited for.
    private func resume(_ record: PromotionRecord) {
        guard let chain = chain(record), chain.steps.indices.contains(record.step) else { return }
        switch (record.state, chain.steps[record.step].gate(record.gate)) {
        case (.gating, .smoke(let gate)):
            guard smoking[record.id] == nil else { return }
            smoking[record.id] = Task { await self.smoke(record, gate) }
        case (.gating, .none):
            Task { _ = await self.advance(record, because: "no gate in \(record.environment)") }
        case (.promoting, _):
            Task { _ = await self.promote(record) }
        default:
            break
        }
    }

    private func smoke(_ record: PromotionRecord, _ gate: SmokeGate) async {
        let outcome = await gate.run(tag: record.tag)
        smoking.removeValue(forKey: record.id)
        // Superseded or cancelled meanwhile: whatever the checks said, it is not this promotion's to act on.
        guard let current = try? await journal.promotion(record.id), current.state == .gating, current.step == record.step else { return }
        switch outcome {
        case .passed(let attempts):
            _ = await passed(record, because: "smoke checks passed in \(record.environment) (\(attempts) attempts)")
        case .failed(_, let reason):
            // A newer tag replaced this one in the environment meanwhile: nothing to revert (it
            // would go below the newer tag); this promotion is superseded.
            if let current = try? await journal.lastWrite(target: record.environment, image: record.image),
                let tag = current.tag, tag != record.tag
            {
                _ = try? await update(
                    record.id, step: record.step, environment: record.environment, state: .superseded,
                    detail: "superseded by \(tag) in \(record.environment) (smoke checks for \(record.tag) failed: \(reason)); not reverted")
                return
            }
            let revert = chain(record)?.revertOnSmokeFailure == true ? await revert(record) : ""
            _ = try? await update(
                record.id, step: record.step, environment: record.environment, state: .failed,
                detail: "smoke checks failed in \(record.environment): \(reason); the chain stops here\(revert)")
        }
    }

    /// Writes back the tag the environment ran before (a commit, or the merge request of a
    /// `branch` target), allowed to go down; says what it did, for the promotion's detail. A
    /// `branch` target whose request is still open never ran the tag: the request is closed.
    private func revert(_ record: PromotionRecord) async -> String {
        guard let previous = record.previousTag else { return "; nothing to revert to (the previous tag is unknown)" }
        guard let image = try? ImageName(parsing: record.image), let route = route(image, record.environment),
            let request = try? BumpRequest(ImageReference(name: image, tag: previous, digest: nil))
        else { return "; cannot revert: \(record.environment) is not a target of \(record.image)" }
        if route.target.mode == .branch, let forge = route.forge, let number = record.mergeRequest?.number,
            let status = try? await forge.mergeRequestStatus(number), status.state == .open
        {
            do {
                try await forge.comment(
                    number, "imagebump closes this request: the promotion of `\(record.tag)` stopped in \(record.environment).")
                try await forge.closeMergeRequest(number)
            } catch { return "; cannot close merge request #\(number): \(error)" }
            if let head = status.headCommit { _ = await dispatcher.cleanUp(image: image, route: route, expected: head) }
            return "; closed merge request #\(number) unmerged: \(record.environment) never ran \(record.tag)"
        }
        let subject = "Revert \(record.image) to \(previous) in \(record.environment) (smoke failed for \(record.tag))"
        switch await dispatcher.write(
            request, route: route, id: "revert-\(record.id)-\(record.step)", force: true, subject: subject, origin: origin(record))
        {
        case .written: return "; reverted \(record.environment) to \(previous)"
        case .skipped(let reason), .failed(let reason): return "; the revert to \(previous) failed: \(reason)"
        case .superseded(let reason): return "; the revert to \(previous) was not written: \(reason)"
        }
    }

    /// What a promotion's commits and merge requests name as their trigger.
    private func origin(_ record: PromotionRecord) -> (source: String, eventID: String) {
        ("promotion \(record.id) of \(record.chain) (`imagebump promotions show \(record.id)`)", record.eventID)
    }

    /// One gate of the current environment passed: wait for the step's next gate, or, after
    /// the last, move on.
    private func passed(_ record: PromotionRecord, because reason: String) async -> PromotionRecord? {
        guard let chain = chain(record), chain.steps.indices.contains(record.step) else { return nil }
        let step = chain.steps[record.step]
        let next = record.gate + 1
        guard next < step.gates.count else { return await advance(record, because: reason) }
        if let current = try? await journal.promotion(record.id), current.state == .cancelled { return current }
        guard
            let waiting = try? await update(
                record.id, step: record.step, gate: next, environment: record.environment, state: Self.waiting(step.gate(next)),
                detail: "\(reason); " + Self.waitingDetail(step, gate: next, tag: record.tag, mergeRequest: record.mergeRequest))
        else { return nil }
        resume(waiting)
        await matchPendingNotices(waiting)
        return waiting
    }

    /// Every gate of the current environment passed: done if it is the last, else write the tag
    /// to the next environment.
    private func advance(_ record: PromotionRecord, because reason: String) async -> PromotionRecord? {
        guard let chain = chain(record) else { return nil }
        // An operator may have cancelled it while its gate ran.
        if let current = try? await journal.promotion(record.id), current.state == .cancelled { return current }
        guard record.step + 1 < chain.steps.count else {
            return try? await update(
                record.id, step: record.step, environment: record.environment, state: .done,
                detail: "\(reason); \(record.tag) has reached \(record.environment), the end of \(chain.name)")
        }
        let next = chain.steps[record.step + 1]
        guard
            let moving = try? await update(
                record.id, step: record.step, environment: record.environment, state: .promoting,
                detail: "\(reason); writing \(record.tag) to \(next.target)")
        else { return nil }
        return await promote(moving)
    }

    /// Writes the tag to the next environment and waits there for its gate.
    private func promote(_ record: PromotionRecord) async -> PromotionRecord? {
        guard let chain = chain(record), record.step + 1 < chain.steps.count else { return nil }
        let next = chain.steps[record.step + 1]
        guard let image = try? ImageName(parsing: record.image), let route = route(image, next.target),
            let request = try? BumpRequest(
                ImageReference(name: image, tag: record.tag, digest: record.digest.flatMap { try? Digest(parsing: $0) }))
        else {
            return try? await update(
                record.id, step: record.step, environment: record.environment, state: .failed,
                detail: "\(next.target) is not a target of \(record.image); fix the chain \(chain.name)")
        }
        // The id makes a replay after a restart a no-op (the commit trailer carries it).
        switch await dispatcher.write(request, route: route, id: "promotion-\(record.id)-\(record.step + 1)", origin: origin(record)) {
        case .written(let previous, let mergeRequest, _):
            guard
                let updated = try? await update(
                    record.id, step: record.step + 1, gate: 0, environment: next.target, state: Self.waiting(next.gate(0)),
                    detail: Self.waitingDetail(next, gate: 0, tag: record.tag, mergeRequest: mergeRequest), previousTag: previous,
                    mergeRequest: mergeRequest)
            else { return nil }
            if next.gates.isEmpty { return await advance(updated, because: "no gate in \(next.target)") }
            resume(updated)
            await matchPendingNotices(updated)
            return updated
        case .skipped(let reason), .failed(let reason):
            return try? await update(
                record.id, step: record.step, environment: record.environment, state: .failed,
                detail: "not promoted to \(next.target): \(reason)")
        case .superseded(let reason):
            return try? await update(
                record.id, step: record.step, environment: record.environment, state: .superseded,
                detail: "not promoted to \(next.target): \(reason)")
        }
    }

    /// Journals a promotion's move and tells it in one `info` line (image, tag, environment,
    /// promotion id, and why): started, gating, waiting, promoted, done, superseded, stopped.
    @discardableResult
    func update(
        _ id: String, step: Int, gate: Int? = nil, environment: String, state: PromotionState, detail: String, previousTag: String? = nil,
        mergeRequest: MergeRequestReference? = nil
    ) async throws(DatabaseError) -> PromotionRecord? {
        let record = try await journal.updatePromotion(
            id, step: step, gate: gate, environment: environment, state: state, detail: detail, previousTag: previousTag,
            mergeRequest: mergeRequest)
        logger.info(
            "promotion \(state.rawValue)",
            metadata: [
                "promotion": "\(id)", "image": "\(record?.image ?? "")", "tag": "\(record?.tag ?? "")", "environment": "\(environment)",
                "detail": "\(detail)",
            ])
        return record
    }

    static func waiting(_ gate: PromotionChain.Gate) -> PromotionState {
        switch gate {
        case .none, .smoke: .gating
        case .merged: .waitingForMerge
        case .manual: .waitingForApproval
        }
    }

    static func waitingDetail(_ step: PromotionChain.Step, gate: Int, tag: String, mergeRequest: MergeRequestReference? = nil) -> String {
        switch step.gate(gate) {
        case .none: "\(tag) is in \(step.target)"
        case .smoke: "\(tag) is in \(step.target); smoke checks running"
        case .merged:
            if let mergeRequest {
                "\(tag) is in \(step.target)'s merge request #\(mergeRequest.number) (\(mergeRequest.url)); waiting for it to be merged"
            } else {
                "\(tag) is in \(step.target)'s merge request; waiting for it to be merged"
            }
        case .manual: "\(tag) is in \(step.target); waiting for approval"
        }
    }
}
