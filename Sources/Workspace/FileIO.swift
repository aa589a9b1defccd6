#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and atomic replacement with POSIX calls (no Foundation on the hot path).
enum FileIO {
    /// What reading a file with a size limit gave.
    enum Contents {
        case bytes([UInt8])
        case tooLarge(size: Int)
    }

    /// Reads a whole file (never through a symbolic link) with one `fstat` and, normally, one
    /// `read`: the size from `fstat` is trusted for the buffer, and a short read loops.
    static func read(_ path: String, limit: Int = .max) throws(WorkspaceError) -> Contents {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw error(.readFailed, path, "cannot open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw error(.readFailed, path, "cannot stat") }
        let size = Int(info.st_size)
        if size > limit { return .tooLarge(size: size) }
        var bytes = [UInt8](repeating: 0, count: size)
        var count = 0
        while count < size {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.read(descriptor, base + count, size - count)
            }
            if got < 0, errno == EINTR { continue }
            if got < 0 { throw error(.readFailed, path, "cannot read") }
            if got == 0 { break }  // the file shrank while we read it
            count += got
        }
        if count < size { bytes.removeSubrange(count...) }
        return .bytes(bytes)
    }

    /// Reads a whole file that must exist and fit in memory.
    static func readAll(_ path: String) throws(WorkspaceError) -> [UInt8] {
        switch try read(path) {
        case .bytes(let bytes): return bytes
        case .tooLarge: return []
        }
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
