import Foundation
import Git
import ImageReference
import Manifests

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
}

/// Writes a bump to one target's repository without a worktree: fetch into the bare cache,
/// edit the blobs of the branch tip's tree, build the new tree and commit, push. A push
/// refused because someone else pushed first is retried on the new tip.
public struct WriteBack: Sendable {
    public let settings: WriteBackSettings
    /// Runs before each push attempt (attempt number from 1); tests use it to race a push.
    let beforePush: (@Sendable (Int) throws -> Void)?

    public init(settings: WriteBackSettings) {
        self.init(settings: settings, beforePush: nil)
    }

    init(settings: WriteBackSettings, beforePush: (@Sendable (Int) throws -> Void)?) {
        self.settings = settings
        self.beforePush = beforePush
    }

    /// The update branch for a target and image: `imagebump/dev/ghcr.io-acme-api`.
    public static func updateBranch(target: String, image: ImageName) -> String {
        "imagebump/\(target)/" + image.description.map { $0 == "/" || $0 == ":" ? "-" : $0 }.map(String.init).joined()
    }

    public func bump(_ request: BumpRequest, target: GitTarget, eventID: String, dryRun: Bool = false) throws(WriteBackError) -> WriteBackResult {
        let cache = RepositoryCache(stateDirectory: settings.stateDirectory)
        var repository = try cache.open(target.repository, target: target.name)
        let updateBranch = Self.updateBranch(target: target.name, image: request.image)
        let destination = target.mode == .commit ? target.branch : updateBranch
        var attempt = 0
        while true {
            attempt += 1
            do {
                try fetch(repository, target: target, updateBranch: updateBranch)
            } catch let error where error.gitError?.code == .corruptRepository && attempt == 1 {
                repository = try cache.recreate(target.repository, target: target.name)
                try fetch(repository, target: target, updateBranch: updateBranch)
            }
            let tip = try git(target) { () throws(GitError) in try repository.target(of: "refs/remotes/origin/\(target.branch)") }
            guard let base = tip else {
                throw WriteBackError(.branchMissing, target: target.name, detail: "the branch \(target.branch) does not exist in \(target.url); create it or fix targets[].branch")
            }
            let edit = try self.edit(repository, base: base, request: request, target: target)
            if edit.updates.allSatisfy({ !$0.isChanged }) {
                return WriteBackResult(outcome: .upToDate, target: target.name, branch: destination, commit: base, changes: [], updates: [], attempts: attempt)
            }
            if dryRun {
                return WriteBackResult(outcome: .dryRun, target: target.name, branch: destination, commit: nil, changes: edit.changes, updates: edit.updates, attempts: attempt)
            }
            let commit = try self.commit(repository, base: base, edit: edit, request: request, target: target, eventID: eventID)
            do {
                if target.mode == .branch, let existing = try updateBranchTip(repository, target: target, branch: updateBranch, base: base) {
                    if try git(target, { () throws(GitError) in try repository.commitInfo(existing).tree == repository.commitInfo(commit).tree }) {
                        return WriteBackResult(outcome: .upToDate, target: target.name, branch: updateBranch, commit: existing, changes: [], updates: [], attempts: attempt)
                    }
                }
                try beforePush?(attempt)
                try push(repository, commit: commit, branch: destination, force: target.mode == .branch, target: target)
                return WriteBackResult(outcome: .pushed, target: target.name, branch: destination, commit: commit, changes: edit.changes, updates: edit.updates, attempts: attempt)
            } catch let error as WriteBackError where error.gitError?.code == .nonFastForward {
                guard attempt < settings.pushAttempts else {
                    throw WriteBackError(.retriesExhausted, target: target.name, detail: "\(destination) moved under us \(attempt) times; giving up (someone else keeps pushing)", gitError: error.gitError)
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
    private func git<T>(_ target: GitTarget, _ body: () throws(GitError) -> T) throws(WriteBackError) -> T {
        do { return try body() } catch {
            throw WriteBackError(error.code == .notOurs ? .notOurs : .git, target: target.name, detail: error.description, gitError: error)
        }
    }

    private func fetch(_ repository: GitRepository, target: GitTarget, updateBranch: String) throws(WriteBackError) {
        var refspecs = ["+refs/heads/\(target.branch):refs/remotes/origin/\(target.branch)"]
        if target.mode == .branch {
            // Forget our view of the update branch first, so that a deleted one is noticed.
            try git(target) { () throws(GitError) in try repository.deleteReference("refs/remotes/origin/\(updateBranch)") }
            refspecs.append("+refs/heads/\(updateBranch):refs/remotes/origin/\(updateBranch)")
        }
        if !target.url.contains("://"), !FileManager.default.fileExists(atPath: target.url) {
            throw WriteBackError(.git, target: target.name, detail: "cannot fetch \(target.url): no repository at that path; fix repos[].url",
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
        var changes: [Change] { updates.flatMap(\.changes) }
    }

    /// Runs the manifest engine over the blobs of the base commit's tree.
    private func edit(_ repository: GitRepository, base: ObjectID, request: BumpRequest, target: GitTarget) throws(WriteBackError) -> Edit {
        let files = try git(target) { () throws(GitError) in
            try repository.files(in: base, descend: target.mayInclude(inside:), include: target.includes)
        }
        let screen = ReferenceScreen(image: request.image, options: settings.extraction)
        let updater = ManifestUpdater(extractor: ReferenceExtractor(options: settings.extraction))
        var edit = Edit()
        var referenced = false
        for file in files {
            let bytes = try git(target) { () throws(GitError) in try repository.blob(file.blob) }
            guard bytes.count <= settings.maximumFileSize, screen.mightReference(bytes) else { continue }
            let update: FileUpdate
            do { update = try updater.update(file: file.path, bytes: bytes, request: request) } catch {
                throw WriteBackError(.edit, target: target.name, detail: "\(error)")
            }
            referenced = referenced || !(update.changes.isEmpty && update.upToDate.isEmpty && update.leftAlone.isEmpty)
            if update.isChanged {
                edit.updates.append(update)
                edit.modes[file.path] = file.mode
            } else if !update.upToDate.isEmpty {
                edit.updates.append(update)
            }
        }
        guard referenced else {
            throw WriteBackError(.noReferences, target: target.name, detail: "no file in \(target.location) on \(target.branch) references \(request.image)")
        }
        return edit
    }

    private func commit(_ repository: GitRepository, base: ObjectID, edit: Edit, request: BumpRequest, target: GitTarget, eventID: String) throws(WriteBackError) -> ObjectID {
        try git(target) { () throws(GitError) in
            var replaced: [TreeFile] = []
            for update in edit.updates where update.isChanged {
                replaced.append(TreeFile(path: update.file, blob: try repository.writeBlob(update.updated), mode: edit.modes[update.file] ?? 0o100644))
            }
            let tree = try repository.tree(of: base, replacing: replaced)
            let message = CommitMessage.render(template: settings.subject, request: request, target: target, changes: edit.changes, eventID: eventID)
            return try repository.commit(tree: tree, parents: [base], author: settings.author, committer: settings.committer, message: message)
        }
    }

    /// The update branch's tip if it exists; throws if a commit on it is not ours.
    private func updateBranchTip(_ repository: GitRepository, target: GitTarget, branch: String, base: ObjectID) throws(WriteBackError) -> ObjectID? {
        try git(target) { () throws(GitError) -> ObjectID? in
            guard let tip = try repository.target(of: "refs/remotes/origin/\(branch)") else { return nil }
            var current = tip
            for _ in 0..<50 {
                if try repository.isDescendant(base, of: current) { return tip }
                let info = try repository.commitInfo(current)
                guard info.committer.email == settings.committer.email else {
                    throw GitError(.notOurs, operation: "lease check", message: "\(branch) has commit \(current.short) by \(info.committer); not overwriting it")
                }
                guard let parent = info.parents.first else { return tip }
                current = parent
            }
            return tip
        }
    }

    private func push(_ repository: GitRepository, commit: ObjectID, branch: String, force: Bool, target: GitTarget) throws(WriteBackError) {
        let local = "refs/heads/\(branch)"
        try git(target) { () throws(GitError) in
            try repository.setReference(local, to: commit, message: "imagebump")
            try repository.push(url: target.url, refspecs: ["\(force ? "+" : "")\(local):\(local)"], credentials: target.credentials)
            try repository.setReference("refs/remotes/origin/\(branch)", to: commit, message: "imagebump push")
        }
    }
}
