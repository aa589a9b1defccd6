import Events
import Forge
import Foundation
import ImageReference
import Journal
import Logging
import Manifests
import Pipeline

/// Where one image goes: a write-back target, its forge (for merge requests) and options.
public struct Route: Sendable {
    public let target: GitTarget
    public let forge: (any Forge)?
    public let options: MergeRequestOptions

    public init(target: GitTarget, forge: (any Forge)?, options: MergeRequestOptions) {
        self.target = target
        self.forge = forge
        self.options = options
    }
}

/// Runs accepted events: one serial lane per environment repository (no two writers on one
/// repository), lanes in parallel. Each event becomes one job per target; transient failures
/// are retried with exponential backoff and jitter, then the event is marked failed with the
/// last error. Every step is recorded in the journal.
public actor Dispatcher {
    let journal: Journal
    let updater: TargetUpdater
    let routes: @Sendable (ImageName) -> [Route]
    let attempts: Int
    let baseDelay: Duration
    let logger: Logger
    private var tails: [String: Task<Void, Never>] = [:]
    private var remaining: [String: (count: Int, failed: [String])] = [:]

    public init(
        journal: Journal, updater: TargetUpdater, routes: @escaping @Sendable (ImageName) -> [Route], attempts: Int = 5,
        baseDelay: Duration = .seconds(1),
        logger: Logger = Logger(label: "imagebump.dispatcher")
    ) {
        self.journal = journal
        self.updater = updater
        self.routes = routes
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.logger = logger
    }

    /// Queues an accepted event.
    public func submit(_ id: String, _ event: ImageEvent) async {
        guard let image = event.image, case let targets = routes(image), !targets.isEmpty else {
            try? await journal.update(id, status: .ignored, detail: "no target is configured for \(event.registry)/\(event.repository)")
            return
        }
        let request: BumpRequest
        do { request = try BumpRequest(ImageReference(name: image, tag: event.tag, digest: event.digest)) } catch {
            try? await journal.update(id, status: .failed, detail: "\(error)", error: "\(error)")
            return
        }
        remaining[id] = (targets.count, [])
        for route in targets {
            let previous = tails[route.target.repository]
            tails[route.target.repository] = Task { [self] in
                await previous?.value
                let outcome = await run(id, request, route)
                await finish(id, route.target.name, failure: outcome)
            }
        }
    }

    /// Queues again every event a previous run accepted but did not finish (after a crash).
    /// A target already written for the event is recognised by its commit trailer and left alone.
    public func recover() async throws(SQLiteError) {
        for event in try await journal.unfinished() {
            await submit(event.id, event.imageEvent)
        }
    }

    /// Waits until every queued job has finished.
    public func drain() async {
        while !tails.isEmpty {
            let current = tails
            for task in current.values { await task.value }
            tails = tails.filter { key, _ in current[key] == nil }
        }
    }

    /// One target's job; nil on success, else the last error.
    private func run(_ id: String, _ request: BumpRequest, _ route: Route) async -> String? {
        var lastError = ""
        for attempt in 1...attempts {
            do {
                let trigger = Trigger(source: "webhook", time: ISO8601DateFormatter().string(from: Date()), eventID: id)
                let update = try await updater.update(
                    request, target: route.target, forge: route.forge, options: route.options, trigger: trigger)
                let result = update.writeBack
                let detail =
                    result.outcome == .upToDate
                    ? "\(route.target.name): already up to date on \(result.branch)"
                    : "\(route.target.name): pushed \(result.commit?.short ?? "") to \(result.branch)"
                try? await journal.update(
                    id, status: .committed, detail: detail, commit: result.commit?.hex, mergeRequestURL: update.mergeRequest?.url)
                return nil
            } catch let error as WriteBackError where [.noReferences, .branchMissing, .notOurs, .edit, .storage].contains(error.code) {
                return "\(route.target.name): \(error.detail)"  // retrying cannot help
            } catch {
                lastError = "\(route.target.name): \(error)"
                logger.warning("bump failed; retrying", metadata: ["event.id": "\(id)", "attempt": "\(attempt)", "error": "\(error)"])
                if attempt < attempts {
                    let delay = baseDelay * (1 << (attempt - 1)) + baseDelay * Double.random(in: 0..<1)
                    try? await Task.sleep(for: delay)
                }
            }
        }
        return lastError
    }

    private func finish(_ id: String, _ target: String, failure: String?) async {
        guard var state = remaining[id] else { return }
        state.count -= 1
        if let failure { state.failed.append(failure) }
        remaining[id] = state.count == 0 ? nil : state
        guard state.count == 0 else { return }
        if state.failed.isEmpty {
            try? await journal.update(id, status: .done, detail: "every target is up to date")
        } else {
            try? await journal.update(
                id, status: .failed, detail: state.failed.joined(separator: "; "), error: state.failed.joined(separator: "; "))
        }
    }
}
