import Foundation

/// Compares two directory trees byte for byte and describes every difference: files only in
/// one of them, and a line-level diff of files whose bytes differ.
public enum GoldenDirectory {
    /// Every regular file below `root`, as sorted `/`-separated relative paths.
    public static func files(under root: URL) -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return []
        }
        var result: [String] = []
        let base = root.standardizedFileURL.path
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.standardizedFileURL.path
            result.append(String(path.dropFirst(base.count + 1)))
        }
        return result.sorted()
    }

    /// An empty list when `actual` equals `expected`; otherwise one description per difference.
    public static func differences(actual: URL, expected: URL) -> [String] {
        let actualFiles = Set(files(under: actual))
        let expectedFiles = Set(files(under: expected))
        var differences: [String] = []
        for file in actualFiles.subtracting(expectedFiles).sorted() { differences.append("only in actual: \(file)") }
        for file in expectedFiles.subtracting(actualFiles).sorted() { differences.append("only in expected: \(file)") }
        for file in actualFiles.intersection(expectedFiles).sorted() {
            let left = (try? Data(contentsOf: actual.appendingPathComponent(file))) ?? Data()
            let right = (try? Data(contentsOf: expected.appendingPathComponent(file))) ?? Data()
            guard left != right else { continue }
            differences.append("differs: \(file)\n" + lineDiff(actual: left, expected: right))
        }
        return differences
    }

    private static func lineDiff(actual: Data, expected: Data) -> String {
        let a = String(decoding: actual, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let e = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for index in 0..<max(a.count, e.count) {
            let left = index < a.count ? String(a[index]) : "<none>"
            let right = index < e.count ? String(e[index]) : "<none>"
            if left != right {
                out += "  line \(index + 1):\n    expected: \(right.debugDescription)\n    actual:   \(left.debugDescription)\n"
            }
        }
        return out
    }

    /// Copies a directory tree to a fresh temporary directory (for tests that edit files).
    public static func copyToTemporary(_ source: URL) throws -> URL {
        let destination = try TemporaryDirectory.make()
        for file in files(under: source) {
            let target = destination.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: target)
        }
        return destination
    }
}

/// Fresh directories under the system temporary directory.
public enum TemporaryDirectory {
    public static func make(_ prefix: String = "imagebump-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Locates a test target's `Fixtures/` folder from the test file's own path.
public func fixturesDirectory(_ filePath: StaticString = #filePath) -> URL {
    var url = URL(fileURLWithPath: "\(filePath)").deletingLastPathComponent()
    while url.path != "/" {
        let candidate = url.appendingPathComponent("Fixtures")
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        url = url.deletingLastPathComponent()
    }
    return url
}
