import Foundation
import Git

/// Subtrees known to hold no file that passes a screen, remembered across bumps beside the
/// repository cache. An entry names a subtree by path and tree id; a tree id is a hash of its
/// content, so an entry can never become wrong, and after the first bump only the subtrees
/// that changed are read again.
final class ScreenCache {
    private let file: String
    private let key: String
    private var empty: Set<String> = []
    private var changed = false
    /// Past this many entries the cache starts again (old trees pile up as the repo moves).
    static let maximumEntries = 500_000

    /// Loads the cache for `key` (the screen's signature and the target's paths) from the
    /// repository cache directory; a missing or unreadable file is an empty cache.
    init(repositoryPath: String, key: String) {
        self.key = key
        file = "\(repositoryPath)/imagebump-screen-\(Self.fnv1a(key))"
        guard let data = FileManager.default.contents(atPath: file) else { return }
        // Split on bytes: far cheaper than Character-wise splitting for thousands of lines.
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        guard let header = lines.first, String(decoding: header, as: UTF8.self) == key.replacingOccurrences(of: "\n", with: " ") else {
            return
        }
        empty.reserveCapacity(lines.count)
        for line in lines.dropFirst() { empty.insert(String(decoding: line, as: UTF8.self)) }
    }

    func isEmpty(path: String, tree: ObjectID) -> Bool { empty.contains("\(tree.hex) \(path)") }

    func markEmpty(path: String, tree: ObjectID) {
        if empty.insert("\(tree.hex) \(path)").inserted { changed = true }
    }

    /// Writes the cache if it changed (atomically; a failure only costs speed next time).
    func save() {
        guard changed else { return }
        if empty.count > Self.maximumEntries { empty.removeAll() }
        let text = ([key.replacingOccurrences(of: "\n", with: " ")] + empty.sorted()).joined(separator: "\n") + "\n"
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        changed = false
    }

    /// FNV-1a, 64 bits, in hex: a stable file name for a key (Swift's Hasher is seeded per run).
    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
