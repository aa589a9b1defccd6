import CLibGit2
import Foundation

/// A file in a Git tree: its path, content id and mode (kept as-is when the file is rewritten).
public struct TreeFile: Sendable, Hashable {
    public let path: String
    public let blob: ObjectID
    /// `0o100644` or `0o100755`.
    public let mode: UInt32

    public init(path: String, blob: ObjectID, mode: UInt32) {
        self.path = path
        self.blob = blob
        self.mode = mode
    }
}

/// What a commit says about itself.
public struct CommitInfo: Sendable, Hashable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    public let message: String
    public let author: Identity
    public let committer: Identity
}

/// A bare repository on disk. Not Sendable: one task owns it, and its handles never cross
/// threads. Every libgit2 failure becomes a ``GitError`` naming the call.
public final class GitRepository {
    let pointer: OpaquePointer
    /// The repository's directory.
    public let path: String

    private init(pointer: OpaquePointer, path: String) {
        self.pointer = pointer
        self.path = path
    }

    deinit { git_repository_free(pointer) }

    /// Opens an existing bare repository.
    public static func openBare(at path: String) throws(GitError) -> GitRepository {
        LibGit2.ensureInitialised()
        var repository: OpaquePointer?
        try check(git_repository_open_bare(&repository, path), "git_repository_open_bare")
        guard let repository else { throw GitError(.other, operation: "git_repository_open_bare", message: "no repository returned") }
        return GitRepository(pointer: repository, path: path)
    }

    /// Creates an empty bare repository (the directory is created if missing).
    public static func initBare(at path: String) throws(GitError) -> GitRepository {
        LibGit2.ensureInitialised()
        var repository: OpaquePointer?
        try check(git_repository_init(&repository, path, 1), "git_repository_init")
        guard let repository else { throw GitError(.other, operation: "git_repository_init", message: "no repository returned") }
        return GitRepository(pointer: repository, path: path)
    }

    // MARK: - References

    /// The commit a reference points at, or nil when the reference does not exist.
    public func target(of reference: String) throws(GitError) -> ObjectID? {
        var oid = git_oid()
        let status = git_reference_name_to_id(&oid, pointer, reference)
        if status == GIT_ENOTFOUND.rawValue { return nil }
        try check(status, "git_reference_name_to_id(\(reference))")
        return ObjectID(oid)
    }

    /// Points a reference at a commit, creating or moving it.
    public func setReference(_ reference: String, to id: ObjectID, message: String) throws(GitError) {
        var oid = id.raw
        var created: OpaquePointer?
        try check(git_reference_create(&created, pointer, reference, &oid, 1, message), "git_reference_create(\(reference))")
        if let created { git_reference_free(created) }
    }

    /// Deletes a reference if it exists.
    public func deleteReference(_ reference: String) throws(GitError) {
        var found: OpaquePointer?
        let status = git_reference_lookup(&found, pointer, reference)
        if status == GIT_ENOTFOUND.rawValue { return }
        try check(status, "git_reference_lookup(\(reference))")
        guard let found else { return }
        defer { git_reference_free(found) }
        try check(git_reference_delete(found), "git_reference_delete(\(reference))")
    }

    /// Deletes a reference only while it points at `expected` (hex); false when it is gone or
    /// points elsewhere. libgit2 refuses the delete if the reference moved since it was read.
    public func deleteReference(_ reference: String, ifAt expected: String) throws(GitError) -> Bool {
        var found: OpaquePointer?
        let status = git_reference_lookup(&found, pointer, reference)
        if status == GIT_ENOTFOUND.rawValue { return false }
        try check(status, "git_reference_lookup(\(reference))")
        guard let found else { return false }
        defer { git_reference_free(found) }
        guard let target = git_reference_target(found), ObjectID(target.pointee).hex == expected else { return false }
        try check(git_reference_delete(found), "git_reference_delete(\(reference))")
        return true
    }

    // MARK: - Reading

    func lookupCommit(_ id: ObjectID) throws(GitError) -> GitHandle {
        var oid = id.raw
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, pointer, &oid), "git_commit_lookup(\(id.short))")
        guard let commit else { throw GitError(.notFound, operation: "git_commit_lookup", message: "commit \(id) not found") }
        return GitHandle(commit) { git_commit_free($0) }
    }

    func lookupTree(_ oid: UnsafePointer<git_oid>) throws(GitError) -> GitHandle {
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, pointer, oid), "git_tree_lookup")
        guard let tree else { throw GitError(.notFound, operation: "git_tree_lookup", message: "tree not found") }
        return GitHandle(tree) { git_tree_free($0) }
    }

    /// A commit's tree, parents, message and signatures.
    public func commitInfo(_ id: ObjectID) throws(GitError) -> CommitInfo {
        let commit = try lookupCommit(id)
        let parents = (0..<git_commit_parentcount(commit.pointer)).compactMap { index in
            git_commit_parent_id(commit.pointer, index).map { ObjectID($0.pointee) }
        }
        func identity(_ signature: UnsafePointer<git_signature>?) -> Identity {
            Identity(
                name: signature.map { String(cString: $0.pointee.name) } ?? "",
                email: signature.map { String(cString: $0.pointee.email) } ?? "")
        }
        return CommitInfo(
            id: id, tree: ObjectID(git_commit_tree_id(commit.pointer).pointee), parents: parents,
            message: git_commit_message(commit.pointer).map { String(cString: $0) } ?? "",
            author: identity(git_commit_author(commit.pointer)), committer: identity(git_commit_committer(commit.pointer)))
    }

    /// One entry of a tree: a file (regular or executable) or a subtree. Links and
    /// submodules are never listed.
    public struct TreeEntry: Sendable, Hashable {
        public let name: String
        public let id: ObjectID
        public let mode: UInt32
        public var isTree: Bool { mode == GIT_FILEMODE_TREE.rawValue }
    }

    /// The root tree of a commit.
    public func rootTree(of commit: ObjectID) throws(GitError) -> ObjectID {
        ObjectID(git_commit_tree_id(try lookupCommit(commit).pointer).pointee)
    }

    /// The files and subtrees directly in a tree.
    public func entries(ofTree id: ObjectID) throws(GitError) -> [TreeEntry] {
        var oid = id.raw
        let tree = try lookupTree(&oid)
        var entries: [TreeEntry] = []
        let count = git_tree_entrycount(tree.pointer)
        entries.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = git_tree_entry_byindex(tree.pointer, index), let name = git_tree_entry_name(entry) else { continue }
            let mode = git_tree_entry_filemode(entry)
            guard mode == GIT_FILEMODE_TREE || mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE else { continue }
            entries.append(TreeEntry(name: String(cString: name), id: ObjectID(git_tree_entry_id(entry).pointee), mode: mode.rawValue))
        }
        return entries
    }

    /// A blob's bytes.
    public func blob(_ id: ObjectID) throws(GitError) -> [UInt8] {
        var oid = id.raw
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &oid), "git_blob_lookup(\(id.short))")
        guard let blob else { throw GitError(.notFound, operation: "git_blob_lookup", message: "blob \(id) not found") }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let content = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: content, count: size))
    }

    /// Whether `commit` has `ancestor` in its history (or is it).
    public func isDescendant(_ commit: ObjectID, of ancestor: ObjectID) throws(GitError) -> Bool {
        if commit == ancestor { return true }
        var a = commit.raw
        var b = ancestor.raw
        return try check(git_graph_descendant_of(pointer, &a, &b), "git_graph_descendant_of") == 1
    }

    // MARK: - Writing

    /// Stores bytes as a blob.
    public func writeBlob(_ bytes: [UInt8]) throws(GitError) -> ObjectID {
        var oid = git_oid()
        let status = bytes.withUnsafeBytes { buffer in git_blob_create_from_buffer(&oid, pointer, buffer.baseAddress, buffer.count) }
        try check(status, "git_blob_create_from_buffer")
        return ObjectID(oid)
    }

    /// A new tree: the commit's tree with these files replaced (paths, blobs and modes given).
    public func tree(of commit: ObjectID, replacing files: [TreeFile]) throws(GitError) -> ObjectID {
        let handle = try lookupCommit(commit)
        let base = try lookupTree(git_commit_tree_id(handle.pointer))
        let paths = files.map { strdup($0.path) }
        defer { paths.forEach { free($0) } }
        var updates = zip(files, paths).map { file, path in
            git_tree_update(action: GIT_TREE_UPDATE_UPSERT, id: file.blob.raw, filemode: git_filemode_t(rawValue: file.mode), path: path)
        }
        var oid = git_oid()
        try check(git_tree_create_updated(&oid, pointer, base.pointer, updates.count, &updates), "git_tree_create_updated")
        return ObjectID(oid)
    }

    /// Writes a commit object (no reference is moved).
    /// Writes a commit (no ref moves). With `sign`, the commit's text is handed to it and the
    /// armored signature it returns is stored in the commit's `gpgsig` header, as `git commit -S` does.
    public func commit(
        tree: ObjectID, parents: [ObjectID], author: Identity, committer: Identity, message: String,
        sign: ((String) throws -> String)? = nil
    ) throws(GitError) -> ObjectID {
        var treeID = tree.raw
        var treeHandle: OpaquePointer?
        try check(git_tree_lookup(&treeHandle, pointer, &treeID), "git_tree_lookup")
        guard let treeHandle else { throw GitError(.notFound, operation: "git_tree_lookup", message: "tree \(tree) not found") }
        defer { git_tree_free(treeHandle) }
        var parentHandles: [GitHandle] = []
        for parent in parents { parentHandles.append(try lookupCommit(parent)) }
        let authorSignature = try SignatureHandle(author)
        let committerSignature = try SignatureHandle(committer)
        var parentPointers: [OpaquePointer?] = parentHandles.map { $0.pointer }
        var oid = git_oid()
        guard let sign else {
            try check(
                git_commit_create(
                    &oid, pointer, nil, authorSignature.pointer, committerSignature.pointer, "UTF-8", message, treeHandle,
                    parentPointers.count, &parentPointers),
                "git_commit_create")
            return ObjectID(oid)
        }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(
            git_commit_create_buffer(
                &buffer, pointer, authorSignature.pointer, committerSignature.pointer, "UTF-8", message, treeHandle, parentPointers.count,
                &parentPointers),
            "git_commit_create_buffer")
        guard let text = buffer.ptr else { throw GitError(.other, operation: "git_commit_create_buffer", message: "no commit text") }
        let content = String(cString: text)
        var signature: String
        do { signature = try sign(content) } catch {
            throw GitError(.other, operation: "sign the commit", message: "\(error)")
        }
        // git writes the header without the signature's last newline.
        while signature.hasSuffix("\n") { signature.removeLast() }
        try check(git_commit_create_with_signature(&oid, pointer, content, signature, nil), "git_commit_create_with_signature")
        return ObjectID(oid)
    }
}
