import Crypto
import Foundation
import Git
import ImageReference
import Logging
import Manifests
import Policy

/// Writing the commit of an edit: its blobs and trees, the message, and (with a signing key)
/// its signature.
extension WriteBack {
    func commit(_ repository: GitRepository, base: ObjectID, edit: Edit, items: [BumpItem], target: GitTarget)
        throws(WriteBackError) -> NewCommit
    {
        try git(target) { () throws(GitError) in
            var replaced: [TreeFile] = []
            for update in edit.updates where update.isChanged {
                replaced.append(
                    TreeFile(path: update.file, blob: try repository.writeBlob(update.updated), mode: edit.modes[update.file] ?? 0o100644))
            }
            let tree = try repository.tree(of: base, replacing: replaced)
            // Only what changed is named: the subject counts changed images, and each changed
            // image's events are in the trailers of this one commit.
            let changedImages = Set(edit.changes.map(\.image))
            let changedItems = items.filter { changedImages.contains($0.request.image.description) }
            let message = CommitMessage.render(
                template: settings.subject, items: changedItems.isEmpty ? items : changedItems, target: target, changes: edit.changes)
            let signer = try settings.signingKey.map { key throws(GitError) in
                do { return try SSHSigner(openSSHPrivateKey: key) } catch {
                    throw GitError(.other, operation: "read git.signingKey", message: "\(error)")
                }
            }
            let commit = try repository.commit(
                tree: tree, parents: [base], author: settings.author, committer: settings.committer, message: message,
                sign: signer.map { signer in { text in try signer.sign(Array(text.utf8)) } })
            var directories: Set<String> = [""]
            for file in replaced {
                var parts = file.path.split(separator: "/").dropLast()
                while !parts.isEmpty {
                    directories.insert(parts.joined(separator: "/"))
                    parts = parts.dropLast()
                }
            }
            var objects = [commit] + replaced.map(\.blob)
            for directory in directories.sorted() {
                if let id = try repository.treeID(at: directory, inRoot: tree) { objects.append(id) }
            }
            return NewCommit(id: commit, objects: objects)
        }
    }
}
