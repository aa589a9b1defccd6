import Crypto
import Foundation
import Git
import ImageReference
import Logging
import Manifests
import Policy

/// Writes a bump to one target's repository without a worktree: fetch into the bare cache,
/// edit the blobs of the branch tip's tree, build the new tree and commit, push. A push
/// refused because someone else pushed first is retried on the new tip.
public struct WriteBack: Sendable {
    public let settings: WriteBackSettings
    let logger: Logger
    /// Runs before each push attempt (attempt number from 1): the lease fence; tests race a push there.
    let beforePush: (@Sendable (Int) throws -> Void)?

    public init(settings: WriteBackSettings, logger: Logger = Logger(label: "imagebump.writeback", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.init(settings: settings, logger: logger, beforePush: nil)
    }

    /// `beforePush` runs before each push attempt: `serve` with several replicas proves there
    /// that this replica still holds the leader lease (its fence).
    public init(
        settings: WriteBackSettings, logger: Logger = Logger(label: "imagebump.writeback", factory: { _ in SwiftLogNoOpLogHandler() }),
        beforePush: (@Sendable (Int) throws -> Void)?
    ) {
        self.settings = settings
        self.logger = logger
        self.beforePush = beforePush
    }

    /// Runs a step and logs how long it took, at debug level.
    private func timed<T>(_ step: String, _ target: GitTarget, _ body: () throws(WriteBackError) -> T) throws(WriteBackError) -> T {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            logger.debug(
                "step done",
                metadata: [
                    "step": "\(step)", "target": "\(target.name)",
                    "duration.ms": "\(elapsed.components.attoseconds / 1_000_000_000_000_000 + elapsed.components.seconds * 1000)",
                ])
        }
        return try body()
    }

    /// The update branch for a target and image: `imagebump/dev/ghcr.io-acme-api`.
    public static func updateBranch(target: String, image: ImageName) -> String {
        "imagebump/\(target)/" + image.description.map { $0 == "/" || $0 == ":" ? "-" : $0 }.map(String.init).joined()
    }

    public func bump(_ request: BumpRequest, target: GitTarget, eventID: String, dryRun: Bool = false) throws(WriteBackError)
        -> WriteBackResult
    {
        try bump([BumpItem(request, eventID: eventID)], target: target, dryRun: dryRun)
    }

    /// Bumps several images in one commit (a batch of events that arrived together). Items
    /// whose event a commit on the branch already carries are left out (a replay); in `branch`
    /// mode every item must name the same image, since each image has its own update branch.
    public func bump(_ items: [BumpItem], target: GitTarget, dryRun: Bool = false) throws(WriteBackError) -> WriteBackResult {
        guard let first = items.first else { throw WriteBackError(.edit, target: target.name, detail: "a batch needs at least one image") }
        if target.mode == .branch, items.contains(where: { $0.request.image != first.request.image }) {
            throw WriteBackError(.edit, target: target.name, detail: "a branch-mode batch holds one image (one update branch per image)")
        }
        let cache = RepositoryCache(stateDirectory: settings.stateDirectory)
        var repository = try cache.open(target.repository, target: target.name)
        let updateBranch = Self.updateBranch(target: target.name, image: first.request.image)
        let destination = target.mode == .commit ? target.branch : updateBranch
        var attempt = 0
        while true {
            attempt += 1
            do {
                try timed("fetch", target) { () throws(WriteBackError) in try fetch(repository, target: target, updateBranch: updateBranch)
                }
            } catch let error where error.gitError?.code == .corruptRepository && attempt == 1 {
                repository = try cache.recreate(target.repository, target: target.name)
                try fetch(repository, target: target, updateBranch: updateBranch)
            }
            let tip = try git(target) { () throws(GitError) in try repository.target(of: "refs/remotes/origin/\(target.branch)") }
            guard let base = tip else {
                throw WriteBackError(
                    .branchMissing, target: target.name,
                    detail: "the branch \(target.branch) does not exist in \(target.url); create it or fix targets[].branch")
            }
            // A replay of an event already committed (after a crash between push and journal)
            // changes nothing, even if newer commits followed it.
            let applied = try timed("replay-check", target) { () throws(WriteBackError) in
                try alreadyApplied(repository, eventIDs: items.map(\.eventID), target: target, tip: base, updateBranch: updateBranch)
            }
            let pending = items.filter { applied[$0.eventID] == nil }
            guard !pending.isEmpty else {
                // An update branch that carries the events already still needs its merge request
                // (a forge failure after the push, or a crash between the two): the changes it
                // holds, against the base, describe it.
                let changes =
                    target.mode == .branch
                    ? try timed("edit", target) { () throws(WriteBackError) in try self.edit(repository, base: base, items: items, target: target) }
                        .changes : []
                return WriteBackResult(
                    outcome: .upToDate, target: target.name, branch: destination, commit: applied[items[items.count - 1].eventID],
                    changes: changes, updates: [], attempts: attempt)
            }
            let edit = try timed("edit", target) { () throws(WriteBackError) in
                try self.edit(repository, base: base, items: pending, target: target)
            }
            if edit.updates.allSatisfy({ !$0.isChanged }) {
                return WriteBackResult(
                    outcome: .upToDate, target: target.name, branch: destination, commit: base, changes: [], updates: [], attempts: attempt,
                    unreferenced: edit.unreferenced, skipped: edit.skipped)
            }
            if dryRun {
                return WriteBackResult(
                    outcome: .dryRun, target: target.name, branch: destination, commit: nil, changes: edit.changes, updates: edit.updates,
                    attempts: attempt, unreferenced: edit.unreferenced, skipped: edit.skipped, refused: edit.refused)
            }
            let commit = try timed("commit", target) { () throws(WriteBackError) in
                try self.commit(repository, base: base, edit: edit, items: pending, target: target)
            }
            do {
                var expected: ObjectID? = base
                if target.mode == .branch {
                    expected = try updateBranchTip(repository, target: target, branch: updateBranch, base: base)
                    if let existing = expected,
                        try git(
                            target,
                            { () throws(GitError) in try repository.commitInfo(existing).tree == repository.commitInfo(commit.id).tree })
                    {
                        // The update branch already says this; its changes still describe the merge request.
                        return WriteBackResult(
                            outcome: .upToDate, target: target.name, branch: updateBranch, commit: existing, changes: edit.changes,
                            updates: [], attempts: attempt, unreferenced: edit.unreferenced, skipped: edit.skipped)
                    }
                }
                try beforePush?(attempt)
                try timed("push", target) { () throws(WriteBackError) in
                    try push(
                        repository, commit: commit, branch: destination, expected: expected, force: target.mode == .branch, target: target)
                }
                return WriteBackResult(
                    outcome: .pushed, target: target.name, branch: destination, commit: commit.id, changes: edit.changes,
                    updates: edit.updates, attempts: attempt, unreferenced: edit.unreferenced, skipped: edit.skipped, refused: edit.refused)
            } catch let error as WriteBackError where error.gitError?.code == .nonFastForward {
                // The branch moved under us (another writer pushed first): redo at once on the
                // new tip, without backing off; only real errors wait.
                logger.debug("the branch moved; redoing on the new tip", metadata: ["target": "\(target.name)", "attempt": "\(attempt)"])
                guard attempt < settings.pushAttempts else {
                    throw WriteBackError(
                        .retriesExhausted, target: target.name,
                        detail: "\(destination) moved under us \(attempt) times; giving up (someone else keeps pushing)",
                        gitError: error.gitError)
                }
            } catch let error as WriteBackError {
                throw error
            } catch {
                throw WriteBackError(.git, target: target.name, detail: "\(error)")
            }
        }
    }

    // MARK: - Steps

    /// Runs a Git step, turning its error into this target's error.
    func git<T>(_ target: GitTarget, _ body: () throws(GitError) -> T) throws(WriteBackError) -> T {
        do { return try body() } catch {
            throw WriteBackError(error.code == .notOurs ? .notOurs : .git, target: target.name, detail: error.description, gitError: error)
        }
    }

    func fetch(_ repository: GitRepository, target: GitTarget, updateBranch: String) throws(WriteBackError) {
        var refspecs = ["+refs/heads/\(target.branch):refs/remotes/origin/\(target.branch)"]
        if target.mode == .branch {
            // Forget our view of the update branch first, so that a deleted one is noticed.
            try git(target) { () throws(GitError) in try repository.deleteReference("refs/remotes/origin/\(updateBranch)") }
            refspecs.append("+refs/heads/\(updateBranch):refs/remotes/origin/\(updateBranch)")
        }
        if !target.url.contains("://"), !FileManager.default.fileExists(atPath: target.url) {
            throw WriteBackError(
                .git, target: target.name, detail: "cannot fetch \(target.url): no repository at that path; fix repos[].url",
                gitError: GitError(.notFound, operation: "git_remote_fetch", message: "no repository at \(target.url)"))
        }
        do {
            try repository.fetch(url: target.url, refspecs: refspecs, credentials: target.credentials)
        } catch {
            throw WriteBackError(.git, target: target.name, detail: "cannot fetch \(target.url): \(error.message)", gitError: error)
        }
    }

    struct Edit {
        var updates: [FileUpdate] = []
        var modes: [String: UInt32] = [:]
        var unreferenced: [ImageName] = []
        var skipped: [ImageName: String] = [:]
        /// Files whose edit was refused (verification failed), with the reason: the others are
        /// still written.
        var refused: [String: String] = [:]
        var changes: [Change] { updates.flatMap(\.changes) }
    }

    /// Runs the manifest engine over the blobs of the base commit's tree, one image after the
    /// other (a file two images share is edited twice, the second time from the first's
    /// bytes). Subtrees outside the target's paths, or known from an earlier bump to hold
    /// nothing that passes the image's screen, are not read.
    private func edit(_ repository: GitRepository, base: ObjectID, items: [BumpItem], target: GitTarget) throws(WriteBackError)
        -> Edit
    {
        let root = try git(target) { () throws(GitError) in try repository.rootTree(of: base) }
        let updater = ManifestUpdater(extractor: ReferenceExtractor(options: settings.extraction))
        var edited: [String: FileUpdate] = [:]
        var order: [String] = []
        var modes: [String: UInt32] = [:]
        var unreferenced: [ImageName] = []
        var skipped: [ImageName: String] = [:]
        var refused: [String: String] = [:]
        for item in items {
            var request = item.request
            request.digestHandling = item.policy.digest
            // Never down: a reference already on a tag that ranks higher keeps it.
            let veto = { (reference: Reference) -> String? in
                guard !item.force, let current = reference.tag, let new = request.tag,
                    item.policy.compare(new, current) == .orderedAscending
                else {
                    return nil
                }
                return "older than current \(current)"
            }
            var changed = false
            var vetoes: [String] = []
            let candidates = try git(target) { () throws(GitError) in
                try self.candidates(repository, root: root, image: request.image, target: target, edited: edited)
            }
            var referenced = false
            for candidate in candidates {
                let update: FileUpdate
                do { update = try updater.update(file: candidate.file, bytes: candidate.bytes, request: request, veto: veto) } catch {
                    // One file's refusal never blocks the others: it is reported, they are written.
                    refused[candidate.file] = error.detail
                    referenced = true
                    continue
                }
                referenced = referenced || !(update.changes.isEmpty && update.upToDate.isEmpty && update.leftAlone.isEmpty)
                if let alone = update.unwritable.first {  // reported like a refused file; the rest is written
                    refused[candidate.file] = "line \(alone.reference.line): \(alone.reason)"
                }
                changed = changed || !update.changes.isEmpty
                vetoes += update.leftAlone.map(\.reason).filter { $0.hasPrefix("older than current") }
                guard update.isChanged || !update.upToDate.isEmpty else { continue }
                if let previous = edited[candidate.file] {
                    edited[candidate.file] = previous.followed(by: update)
                } else {
                    edited[candidate.file] = update
                    order.append(candidate.file)
                }
                modes[candidate.file] = candidate.mode
            }
            if !referenced { unreferenced.append(request.image) }
            if !changed, let reason = vetoes.first { skipped[request.image] = reason }
        }
        guard unreferenced.count < items.count else {
            throw WriteBackError(
                .noReferences, target: target.name,
                detail:
                    "no file in \(target.location) on \(target.branch) references \(unreferenced.map(\.description).joined(separator: ", "))"
            )
        }
        let updates = order.compactMap { edited[$0] }
        // Every file refused and none to write: the bump fails with the reasons.
        if !refused.isEmpty, !updates.contains(where: \.isChanged) {
            throw WriteBackError(
                .edit, target: target.name, detail: refused.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        }
        return Edit(
            updates: updates, modes: modes.filter { file, _ in edited[file]?.isChanged == true }, unreferenced: unreferenced,
            skipped: skipped, refused: refused)
    }

    /// The files of the tree that might reference `image`, with their current bytes (the
    /// bytes of an earlier edit in the same batch where there is one).
    private func candidates(_ repository: GitRepository, root: ObjectID, image: ImageName, target: GitTarget, edited: [String: FileUpdate])
        throws(GitError) -> [(file: String, mode: UInt32, bytes: [UInt8])]
    {
        let screen = ReferenceScreen(image: image, options: settings.extraction)
        let cache = ScreenCache(
            repositoryPath: repository.path,
            key: "\(screen.signature)|\(target.paths.map(\.pattern).joined(separator: ","))|\(settings.maximumFileSize)")
        defer { cache.save() }
        var candidates: [(file: String, mode: UInt32, bytes: [UInt8])] = []

        func collect(_ tree: ObjectID, _ path: String) throws(GitError) -> Bool {
            if !path.isEmpty, cache.isEmpty(path: path, tree: tree) { return false }
            var found = false
            for entry in try repository.entries(ofTree: tree) {
                let child = path.isEmpty ? entry.name : "\(path)/\(entry.name)"
                if entry.isTree {
                    if target.mayInclude(inside: child), try collect(entry.id, child) { found = true }
                } else if target.includes(child) {
                    let bytes: [UInt8]
                    if let earlier = edited[child] { bytes = earlier.updated } else { bytes = try repository.blob(entry.id) }
                    guard bytes.count <= settings.maximumFileSize, screen.mightReference(bytes) else { continue }
                    found = true
                    candidates.append((child, entry.mode, bytes))
                }
            }
            if !found { cache.markEmpty(path: path, tree: tree) }
            return found
        }
        _ = try collect(root, "")
        return candidates
    }

    /// A new commit and every object it added (blobs, the trees on the changed paths, itself).
    struct NewCommit {
        let id: ObjectID
        let objects: [ObjectID]
    }


    /// The commits that already carry these events for this target, among the last 100 on
    /// the branch (and on the update branch in `branch` mode), by event id.
    private func alreadyApplied(_ repository: GitRepository, eventIDs: [String], target: GitTarget, tip: ObjectID, updateBranch: String)
        throws(WriteBackError) -> [String: ObjectID]
    {
        try git(target) { () throws(GitError) -> [String: ObjectID] in
            var starts = [tip]
            if target.mode == .branch, let update = try repository.target(of: "refs/remotes/origin/\(updateBranch)") {
                starts.insert(update, at: 0)
            }
            var found: [String: ObjectID] = [:]
            for start in starts {
                var current: ObjectID? = start
                for _ in 0..<100 {
                    guard let id = current, found.count < eventIDs.count else { break }
                    let info = try repository.commitInfo(id)
                    if info.message.contains("\nImagebump-Target: \(target.name)\n") {
                        for event in eventIDs where found[event] == nil && info.message.contains("\nImagebump-Event: \(event)\n") {
                            found[event] = id
                        }
                    }
                    current = info.parents.first
                }
            }
            return found
        }
    }

    /// The update branch's tip if it exists; throws if a commit on it is not ours.
    private func updateBranchTip(_ repository: GitRepository, target: GitTarget, branch: String, base: ObjectID) throws(WriteBackError)
        -> ObjectID?
    {
        try git(target) { () throws(GitError) -> ObjectID? in
            guard let tip = try repository.target(of: "refs/remotes/origin/\(branch)") else { return nil }
            var current = tip
            for _ in 0..<50 {
                if try repository.isDescendant(base, of: current) { return tip }
                let info = try repository.commitInfo(current)
                guard info.committer.email == settings.committer.email else {
                    throw GitError(
                        .notOurs, operation: "lease check",
                        message: "\(branch) has commit \(current.short) by \(info.committer); not overwriting it")
                }
                guard let parent = info.parents.first else { return tip }
                current = parent
            }
            return tip
        }
    }

    /// Pushes a commit: to a local remote by copying its new objects and moving the branch
    /// only if it still points where we fetched it (a true lease); to any other remote with
    /// libgit2's push (forced for update branches, which are ours alone).
    private func push(_ repository: GitRepository, commit: NewCommit, branch: String, expected: ObjectID?, force: Bool, target: GitTarget)
        throws(WriteBackError)
    {
        let local = "refs/heads/\(branch)"
        try git(target) { () throws(GitError) in
            try repository.setReference(local, to: commit.id, message: "imagebump")
            if GitRepository.isLocal(target.url) {
                try repository.pushLocal(to: target.url, objects: commit.objects, reference: local, expected: expected, new: commit.id)
            } else {
                try repository.push(url: target.url, refspecs: ["\(force ? "+" : "")\(local):\(local)"], credentials: target.credentials)
            }
            try repository.setReference("refs/remotes/origin/\(branch)", to: commit.id, message: "imagebump push")
        }
    }
}
