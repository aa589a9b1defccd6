#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A regular file found below a root directory.
public struct WalkedFile: Sendable, Hashable {
    /// `/`-separated, relative to the root.
    public let path: String
    public let size: Int
}

/// Lists the regular files below a directory without leaving it: `.git` is skipped, symbolic
/// links are never followed (a link is reported as skipped), and the walk stays on the tree.
public struct DirectoryWalker: Sendable {
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// The files whose relative path passes `include`, and the ones passed over with a reason.
    public func walk(include: (String) -> Bool) throws(WorkspaceError) -> (files: [WalkedFile], skipped: [(String, String)]) {
        var files: [WalkedFile] = []
        var skipped: [(String, String)] = []
        var info = stat()
        guard lstat(root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw WorkspaceError(.notADirectory, path: root, detail: "it is not a directory (\(String(cString: strerror(errno))))")
        }
        var pending: [String] = [""]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? root : "\(root)/\(relative)"
            guard let directory = opendir(absolute) else {
                skipped.append((relative, "cannot list the directory: \(String(cString: strerror(errno)))"))
                continue
            }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." || (relative.isEmpty && name == ".git") { continue }
                let child = relative.isEmpty ? name : "\(relative)/\(name)"
                var type = Int32(entry.pointee.d_type)
                var size = -1
                if type == Int32(DT_UNKNOWN) || type == Int32(DT_REG) {
                    var childInfo = stat()
                    guard lstat("\(root)/\(child)", &childInfo) == 0 else { continue }
                    size = Int(childInfo.st_size)
                    switch childInfo.st_mode & S_IFMT {
                    case S_IFDIR: type = Int32(DT_DIR)
                    case S_IFREG: type = Int32(DT_REG)
                    case S_IFLNK: type = Int32(DT_LNK)
                    default: type = -1
                    }
                }
                switch type {
                case Int32(DT_DIR): pending.append(child)
                case Int32(DT_REG): if include(child) { files.append(WalkedFile(path: child, size: size)) }
                case Int32(DT_LNK): if include(child) { skipped.append((child, "a symbolic link; links are not followed")) }
                default: break
                }
            }
        }
        files.sort { $0.path < $1.path }
        return (files, skipped.sorted { $0.0 < $1.0 })
    }
}
