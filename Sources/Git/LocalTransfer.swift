import CLibGit2

extension GitRepository {
    /// Whether a remote URL names a repository on this machine (a path or `file://`).
    public static func isLocal(_ url: String) -> Bool {
        !url.contains("://") || url.hasPrefix("file://")
    }

    /// Pushes to a repository on this machine the way libgit2's local transport does, without
    /// its walk of every object the remote already has: copies `objects` (those this push
    /// created) into the remote's object database, then moves `reference` from `expected` to
    /// `new` atomically. A reference that no longer points at `expected` (or that exists when
    /// `expected` is nil) means someone else pushed first: ``GitError/Code/nonFastForward``.
    /// Like the local transport, no server-side hooks run.
    public func pushLocal(to url: String, objects: [ObjectID], reference: String, expected: ObjectID?, new: ObjectID) throws(GitError) {
        let path = url.hasPrefix("file://") ? String(url.dropFirst(7)) : url
        let remote = try GitRepository.openBare(at: path)
        var localDatabase: OpaquePointer?
        var remoteDatabase: OpaquePointer?
        try check(git_repository_odb(&localDatabase, pointer), "git_repository_odb")
        defer { git_odb_free(localDatabase) }
        try check(git_repository_odb(&remoteDatabase, remote.pointer), "git_repository_odb(\(path))")
        defer { git_odb_free(remoteDatabase) }
        for id in objects {
            var oid = id.raw
            if git_odb_exists(remoteDatabase, &oid) == 1 { continue }
            var object: OpaquePointer?
            try check(git_odb_read(&object, localDatabase, &oid), "git_odb_read(\(id.short))")
            defer { git_odb_object_free(object) }
            var written = git_oid()
            try check(
                git_odb_write(
                    &written, remoteDatabase, git_odb_object_data(object), git_odb_object_size(object), git_odb_object_type(object)),
                "git_odb_write(\(id.short))")
        }
        var target = new.raw
        var created: OpaquePointer?
        let status: Int32
        if let expected {
            var current = expected.raw
            status = git_reference_create_matching(&created, remote.pointer, reference, &target, 1, &current, "imagebump push")
        } else {
            status = git_reference_create(&created, remote.pointer, reference, &target, 0, "imagebump push")
        }
        if let created { git_reference_free(created) }
        if status == GIT_EMODIFIED.rawValue || status == GIT_EEXISTS.rawValue {
            throw GitError(
                .nonFastForward, operation: "git_reference_create_matching", message: "\(reference) in \(path) moved since it was fetched",
                status: status)
        }
        try check(status, "git_reference_create_matching(\(reference))")
    }

    /// The id of the tree at `path` ("" for the root) inside a root tree, if there is one.
    public func treeID(at path: String, inRoot root: ObjectID) throws(GitError) -> ObjectID? {
        if path.isEmpty { return root }
        var oid = root.raw
        let tree = try lookupTree(&oid)
        var entry: OpaquePointer?
        let status = git_tree_entry_bypath(&entry, tree.pointer, path)
        if status == GIT_ENOTFOUND.rawValue { return nil }
        try check(status, "git_tree_entry_bypath(\(path))")
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_filemode(entry) == GIT_FILEMODE_TREE else { return nil }
        return ObjectID(git_tree_entry_id(entry).pointee)
    }
}
