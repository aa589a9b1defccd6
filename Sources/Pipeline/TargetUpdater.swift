import Git
import Forge
import ImageReference
import Logging
import Manifests
import Runtime

/// What bumping one target did, including its merge request.
public struct TargetUpdate: Sendable {
    public let writeBack: WriteBackResult
    public let mergeRequest: MergeRequest?
    public let mergeRequestOutcome: MergeRequestSync.Outcome?
    /// What could not be added to the merge request (labels, reviewers, auto-merge), each with
    /// what to fix; the request itself is there.
    public var warnings: [String] = []
}

/// One target's whole bump: write back to Git, then, for `branch` targets with a forge, make
/// sure exactly one merge request says what the update branch holds. When a person has pushed
/// to the update branch, imagebump comments on the merge request instead of overwriting.
public struct TargetUpdater: Sendable {
    let writeBack: WriteBack
    let logger: Logger

    public init(writeBack: WriteBack, logger: Logger = Logger(label: "imagebump.pipeline", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.writeBack = writeBack
        self.logger = logger
    }

    public func update(
        _ request: BumpRequest, target: GitTarget, forge: (any Forge)?, options: MergeRequestOptions, trigger: Trigger, dryRun: Bool = false
    ) async throws -> TargetUpdate {
        try await update(
            [BumpItem(request, eventID: trigger.eventID)], target: target, forge: forge, options: options, trigger: trigger, dryRun: dryRun)
    }

    /// Bumps a batch in one commit; in `branch` mode the batch is one image (its last request
    /// is what the merge request says).
    public func update(
        _ items: [BumpItem], target: GitTarget, forge: (any Forge)?, options: MergeRequestOptions, trigger: Trigger, dryRun: Bool = false
    ) async throws -> TargetUpdate {
        guard let request = items.last?.request else {
            throw WriteBackError(.edit, target: target.name, detail: "a batch needs at least one image")
        }
        let target = try await Self.withFreshPassword(target)
        let writeBack = self.writeBack
        let attempt = await runBlocking {
            Result { () throws(WriteBackError) -> WriteBackResult in try writeBack.bump(items, target: target, dryRun: dryRun) }
        }
        let result: WriteBackResult
        switch attempt {
        case .success(let value):
            result = value
        case .failure(let error) where error.code == .notOurs:
            if let forge {
                let branch = WriteBack.updateBranch(target: target.name, image: request.image)
                let marker = MergeRequestTemplate.marker(target: target.name, image: request.image.description)
                if let open = try await forge.findOpenMergeRequest(head: branch, base: target.branch, marker: marker) {
                    try await forge.comment(
                        open.number,
                        "imagebump did not move this branch to `\(request)`: \(error.detail). Merge or close this request, or delete the branch, to let imagebump continue."
                    )
                }
            }
            throw error
        case .failure(let error):
            throw error
        }
        guard target.mode == .branch, let forge, result.outcome != .dryRun, !result.changes.isEmpty else {
            return TargetUpdate(writeBack: result, mergeRequest: nil, mergeRequestOutcome: nil)
        }
        let content = MergeRequestTemplate.content(
            request: request, target: target, branch: result.branch, changes: result.changes, options: options, trigger: trigger)
        let sync = try await MergeRequestSync(forge: forge).ensure(content)
        logger.info(
            "merge request \(sync.outcome.rawValue)",
            metadata: ["target": "\(target.name)", "forge.mr": "\(sync.request.number)", "forge.url": "\(sync.request.url)"])
        for warning in sync.warnings { logger.warning("merge request incomplete", metadata: ["target": "\(target.name)", "fix": "\(warning)"]) }
        return TargetUpdate(writeBack: result, mergeRequest: sync.request, mergeRequestOutcome: sync.outcome, warnings: sync.warnings)
    }

    /// The target with its expiring password fetched now (a GitHub App's installation token).
    static func withFreshPassword(_ target: GitTarget) async throws -> GitTarget {
        guard let password = target.password else { return target }
        var fresh = target
        fresh.credentials.method = .userPassword(user: "x-access-token", password: try await password())
        return fresh
    }

    /// Deletes the update branch of a finished merge request (see
    /// ``WriteBack/deleteUpdateBranch(target:image:expected:)``), on a thread of its own.
    public func deleteUpdateBranch(target: GitTarget, image: ImageName, expected: String) async -> Result<Bool, WriteBackError> {
        let writeBack = self.writeBack
        let fresh: GitTarget
        do { fresh = try await Self.withFreshPassword(target) } catch {
            return .failure(WriteBackError(.git, target: target.name, detail: "no installation token for Git: \(error)"))
        }
        return await runBlocking {
            Result { () throws(WriteBackError) -> Bool in try writeBack.deleteUpdateBranch(target: fresh, image: image, expected: expected)
            }
        }
    }
}
