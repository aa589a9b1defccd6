import Git
import Events
import Forge
import Foundation
import HTTPClient
import ImageReference
import Journal
import Logging
import Manifests
import Pipeline
import Policy
import Synchronization

/// Running a lane's jobs: how they are grouped into write-backs, one write-back with its
/// retries, and how each event's end is recorded.
extension Dispatcher {
    /// Groups a lane's jobs into write-backs: per target, in arrival order; `commit` targets take
    /// every image at once, `branch` targets one image per batch. For one image, the tag its
    /// policy ranks highest wins (when the policy cannot rank them, the one pushed later, else
    /// the later to arrive); a revert (`force`) queued after the others wins and stays a revert.
    /// An untagged request (a digest pin) and a tagged one of the same image are separate items:
    /// one never supersedes the other.
    static func batches(_ jobs: [Job]) -> [(route: Route, items: [BumpItem])] {
        var result: [(route: Route, items: [BumpItem])] = []
        var slots: [String: Int] = [:]
        let orders = Dictionary(jobs.map { ($0.id, $0.order) }, uniquingKeysWith: { first, _ in first })
        for job in jobs {
            let target = job.route.target
            let key = target.mode == .commit ? target.name : "\(target.name) \(job.request.image)"
            guard let index = slots[key] else {
                slots[key] = result.count
                result.append(
                    (job.route, [BumpItem(job.request, eventID: job.id, policy: job.route.policy, force: job.force, subject: job.subject)]))
                continue
            }
            var items = result[index].items
            let policy = job.route.policy
            if let same = items.firstIndex(where: { $0.request.image == job.request.image && ($0.request.tag == nil) == (job.request.tag == nil) }) {
                let earlier = items.remove(at: same)
                if !job.force, earlierWins(earlier, over: job, policy: policy, orders: orders) {
                    items.append(
                        BumpItem(
                            earlier.request, eventID: earlier.eventID, superseded: earlier.superseded + [job.id], policy: policy,
                            force: earlier.force, subject: earlier.subject))
                } else {
                    items.append(
                        BumpItem(
                            job.request, eventID: job.id, superseded: earlier.eventIDs.filter { $0 != job.id }, policy: policy, force: job.force,
                            subject: job.subject))
                }
            } else {
                items.append(BumpItem(job.request, eventID: job.id, policy: policy, force: job.force, subject: job.subject))
            }
            result[index].items = items
        }
        return result
    }

    /// Whether a queued item keeps its place against a later job for the same image.
    static func earlierWins(_ earlier: BumpItem, over job: Job, policy: TagPolicy, orders: [String: Int64]) -> Bool {
        if let new = job.request.tag, let old = earlier.request.tag, let ranked = policy.compare(new, old), ranked != .orderedSame {
            return ranked == .orderedAscending
        }
        return job.order < (orders[earlier.eventID] ?? job.order)
    }

    /// One write-back; the outcome for each image of the batch. Every try counts in each
    /// event's `attempts`; retries wait with capped exponential backoff.
    func run(_ items: [BumpItem], _ route: Route) async -> (ImageName) -> TargetOutcome {
        var lastError = ""
        let eventID = items.last?.eventID ?? ""
        let ids = items.map(\.eventID)
        let deadline = ContinuousClock.now + retryBudget
        for attempt in 1...max(1, attempts) {
            do {
                // A promotion's write names the promotion and the event that started it (both known
                // to `promotions show` and `events show`); an event's names the event.
                let origin = origins[eventID]
                let trigger = Trigger(
                    source: origin?.source ?? "webhook", time: timeFormatter.string(from: Date()), eventID: origin?.eventID ?? eventID)
                let (updater, route) = (self.updater, route)
                let update = try await RetryBudget.$deadline.withValue(deadline) {
                    try await updater.update(items, target: route.target, forge: route.forge, options: route.options, trigger: trigger)
                }
                try? await journal.countAttempt(ids)
                let result = update.writeBack
                var detail =
                    result.outcome == .upToDate
                    ? "\(route.target.name): already up to date on \(result.branch)"
                    : "\(route.target.name): pushed \(result.commit?.short ?? "") to \(result.branch)"
                if let mergeRequest = update.mergeRequest {
                    detail += "; merge request #\(mergeRequest.number) \(update.mergeRequestOutcome?.rawValue ?? "found") (\(mergeRequest.url))"
                    for warning in update.warnings { detail += "; warning: \(warning)" }
                } else if route.target.mode == .branch, route.forge == nil {
                    detail +=
                        "; no merge request is opened: target \(route.target.name)'s repository has no forge (set repos[].forge to open one)"
                }
                for (file, reason) in result.refused.sorted(by: { $0.key < $1.key }) {
                    detail += "; not written: \(file) (\(reason))"
                    logger.warning("a file's edit was refused; the others were written", metadata: ["file": "\(file)", "reason": "\(reason)"])
                }
                metrics.count(
                    "imagebump_writebacks_total",
                    [("target", route.target.name), ("outcome", result.outcome == .pushed ? "pushed" : "up_to_date")])
                var outcomes: [ImageName: TargetOutcome] = [:]
                for image in result.unreferenced {
                    outcomes[image] = .failed("\(route.target.name): no file in \(route.target.location) references \(image)")
                }
                for (image, reason) in result.skipped { outcomes[image] = .skipped("\(route.target.name): skipped: \(reason)") }
                for item in items where outcomes[item.request.image] == nil {
                    try? await journal.update(
                        item.eventID, status: .committed,
                        detail: detail + (items.count > 1 ? " (with \(items.count - 1) other images)" : ""),
                        commit: result.commit?.hex, mergeRequestURL: update.mergeRequest?.url)
                }
                return { image in
                    outcomes[image]
                        ?? .written(
                            previousTag: result.changes.first { $0.image == image.description }?.oldTag,
                            mergeRequest: update.mergeRequest.map { MergeRequestReference(number: $0.number, url: $0.url) },
                            commit: result.commit?.hex)
                }
            } catch let error as WriteBackError where [.noReferences, .branchMissing, .notOurs, .edit, .storage].contains(error.code) {
                try? await journal.countAttempt(ids)
                metrics.count("imagebump_writebacks_total", [("target", route.target.name), ("outcome", "failed")])
                return { _ in .failed("\(route.target.name): \(error.detail)") }  // retrying cannot help
            } catch let error as ForgeError where ![.rateLimited, .server, .transport].contains(error.code) {
                try? await journal.countAttempt(ids)
                metrics.count("imagebump_writebacks_total", [("target", route.target.name), ("outcome", "failed")])
                return { _ in .failed("\(route.target.name): the forge refused the merge request: \(error)") }  // retrying cannot help
            } catch {
                lastError = "\(route.target.name): \(error)"
                let delay = Self.backoff(attempt: attempt, base: baseDelay)
                let retrying = attempt < attempts && ContinuousClock.now + delay < deadline
                if attempt < attempts, !retrying { lastError += " (gave up: the retry budget of \(retryBudget) is spent)" }
                try? await journal.countAttempt(ids, retrying: retrying ? lastError : nil)
                logger.warning(
                    retrying ? "bump failed; retrying" : "bump failed",
                    metadata: ["event.id": "\(eventID)", "attempt": "\(attempt)", "error": "\(error)"])
                guard retrying else { break }
                try? await Task.sleep(for: delay)
            }
        }
        metrics.count("imagebump_writebacks_total", [("target", route.target.name), ("outcome", "failed")])
        return { [lastError] _ in .failed(lastError) }
    }

    /// The wait before retry `attempt + 1`: doubling from `base`, with up to one `base` of
    /// jitter, never more than five minutes.
    static func backoff(attempt: Int, base: Duration) -> Duration {
        let doubled = base * (1 << min(max(attempt - 1, 0), 16))
        return min(doubled, .seconds(300)) + base * Double.random(in: 0..<1)
    }

    /// Records one target's outcome; when it was the event's last target, the event's end:
    /// failed if any target failed, done if any was written, superseded if a newer event took
    /// the place of every other, else skipped. One `info` line says how it ended.
    func finish(_ id: String, _ outcome: TargetOutcome) async {
        guard var state = remaining[id] else { return }
        state.count -= 1
        switch outcome {
        case .written(_, let mergeRequest, let commit):
            state.written += 1
            if let commit { state.commits.append(commit) }
            if let mergeRequest { state.mergeRequests.append(mergeRequest.url) }
        case .skipped(let reason): state.skipped.append(reason)
        case .failed(let reason): state.failed.append(reason)
        case .superseded(let reason): state.superseded.append(reason)
        }
        remaining[id] = state.count == 0 ? nil : state
        guard state.count == 0 else { return }
        let status: EventStatus
        let detail: String
        if !state.failed.isEmpty {
            (status, detail) = (.failed, state.failed.joined(separator: "; "))
        } else if state.written > 0 {
            (status, detail) = (.done, (["every target is up to date"] + state.superseded + state.skipped).joined(separator: "; "))
        } else if !state.superseded.isEmpty {
            (status, detail) = (.superseded, (state.superseded + state.skipped).joined(separator: "; "))
        } else {
            (status, detail) = (.skipped, state.skipped.joined(separator: "; "))
        }
        metrics.count("imagebump_events_finished_total", [("status", status.rawValue)])
        finishing.insert(id)
        try? await journal.update(id, status: status, detail: detail, error: status == .failed ? detail : nil)
        finishing.remove(id)
        ended.insert(id)
        var metadata: Logger.Metadata = ["event.id": "\(id)", "image": "\(state.image)", "detail": "\(detail)"]
        if !state.commits.isEmpty { metadata["commit"] = "\(state.commits.joined(separator: ","))" }
        if !state.mergeRequests.isEmpty { metadata["merge_request"] = "\(state.mergeRequests.joined(separator: ","))" }
        logger.info("event \(status.rawValue)", metadata: metadata)
    }
}

/// A bounded set of ids, the oldest forgotten first.
struct RecentIDs {
    let limit: Int
    private var members: Set<String> = []
    private var order: [String] = []
    private var head = 0

    init(limit: Int) { self.limit = limit }

    func contains(_ id: String) -> Bool { members.contains(id) }

    mutating func insert(_ id: String) {
        guard members.insert(id).inserted else { return }
        if order.count < limit {
            order.append(id)
        } else {
            members.remove(order[head])
            order[head] = id
            head = (head + 1) % limit
        }
    }
}
