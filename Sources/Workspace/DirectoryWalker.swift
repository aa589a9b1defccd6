#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file found below a root directory, `/`-separated and relative to the root.
public struct WalkedFile: Sendable, Hashable {
    public let path: String
}

/// Lists the files below a directory without leaving it: `.git` is skipped, symbolic links
/// are never followed (a link is reported as skipped), and only `d_type` is consulted, so a
/// file costs no `stat` here.
public struct DirectoryWalker: Sendable {
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// What one directory holds.
    struct Listing {
        var files: [WalkedFile] = []
        var directories: [String] = []
        /// Links (never followed) and unreadable directories, with the reason.
        var skipped: [SkippedPath] = []
    }

    /// Fails unless the root is a directory (not a link to one).
    func checkRoot() throws(WorkspaceError) {
        var info = stat()
        guard lstat(root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw WorkspaceError(.notADirectory, path: root, detail: "it is not a directory (\(String(cString: strerror(errno))))")
        }
    }

    /// The entries of one directory, relative to the root.
    func list(_ relative: String) -> Listing {
        var listing = Listing()
        let absolute = relative.isEmpty ? root : "\(root)/\(relative)"
        guard let directory = opendir(absolute) else {
            listing.skipped.append(SkippedPath(path: relative, reason: "cannot list the directory: \(String(cString: strerror(errno)))"))
            return listing
        }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || (relative.isEmpty && name == ".git") { continue }
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) {  // some file systems do not fill d_type
                var info = stat()
                guard lstat("\(root)/\(child)", &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: type = Int32(DT_DIR)
                case S_IFREG: type = Int32(DT_REG)
                case S_IFLNK: type = Int32(DT_LNK)
                default: type = -1
                }
            }
            switch type {
            case Int32(DT_DIR): listing.directories.append(child)
            case Int32(DT_REG): listing.files.append(WalkedFile(path: child))
            case Int32(DT_LNK): listing.skipped.append(SkippedPath(path: child, reason: "a symbolic link; links are not followed"))
            default: break
            }
        }
        return listing
    }

    /// Lists breadth-first until at least `width` directories are pending (or none are left):
    /// the pending directories are independent subtrees that can be walked in parallel.
    func frontier(width: Int) -> (shallow: Listing, pending: [String]) {
        var shallow = Listing()
        var level = [""]
        while !level.isEmpty, level.count < width {
            var next: [String] = []
            for directory in level {
                let listing = list(directory)
                shallow.files += listing.files
                shallow.skipped += listing.skipped
                next += listing.directories
            }
            level = next
        }
        return (shallow, level)
    }

    /// Visits every file below `relative`, depth first.
    func walk(_ relative: String, visit: (WalkedFile) -> Void, skipped: (SkippedPath) -> Void) {
        var pending = [relative]
        while let directory = pending.popLast() {
            let listing = list(directory)
            listing.skipped.forEach(skipped)
            listing.files.forEach(visit)
            pending += listing.directories
        }
    }
}

/// A path the walk passed over, and why.
struct SkippedPath {
    let path: String
    let reason: String
}
