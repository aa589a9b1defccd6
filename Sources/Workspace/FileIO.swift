#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and atomic replacement with POSIX calls (no Foundation on the hot path).
enum FileIO {
    static func read(_ path: String, size hint: Int) throws(WorkspaceError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw error(.readFailed, path, "cannot open") }
        defer { close(descriptor) }
        var capacity = max(hint, 0) + 1
        var bytes = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while true {
            if count == capacity {
                capacity *= 2
                bytes.append(contentsOf: repeatElement(0, count: capacity - bytes.count))
            }
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.read(descriptor, base + count, capacity - count)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw error(.readFailed, path, "cannot read")
            }
            if got == 0 { break }
            count += got
        }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it over `path`, keeping the
    /// file's permission bits: a reader sees the old file or the new one, never half of it.
    static func replace(_ path: String, with bytes: [UInt8]) throws(WorkspaceError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw error(.writeFailed, path, "cannot stat") }
        let temporary = "\(path).imagebump-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, info.st_mode & 0o7777)
        guard descriptor >= 0 else { throw error(.writeFailed, path, "cannot create a temporary file beside it") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + written, bytes.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let failure = error(.writeFailed, path, "cannot write")
                close(descriptor)
                unlink(temporary)
                throw failure
            }
            written += result
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard synced, rename(temporary, path) == 0 else {
            let failure = error(.writeFailed, path, "cannot replace the file")
            unlink(temporary)
            throw failure
        }
    }

    private static func error(_ code: WorkspaceError.Code, _ path: String, _ what: String) -> WorkspaceError {
        WorkspaceError(code, path: path, detail: "\(what): \(String(cString: strerror(errno)))")
    }
}
