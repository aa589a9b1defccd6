import Foundation
import Git

/// Subtrees known to hold no file that passes a screen, remembered across bumps beside the
/// repository cache. An entry names a subtree by path and tree id; a tree id is a hash of its
/// content, so an entry can never become wrong, and after the first bump only the subtrees
/// that changed are read again.
final class ScreenCache {
    private let file: String
    private let key: String
    /// Keys as bytes: `String` hashing normalises Unicode, which made loading 5,000 keys slow.
    private var empty: Set<[UInt8]> = []
    private var changed = false
    /// Past this many entries the cache starts again (old trees pile up as the repo moves).
    static let maximumEntries = 500_000

    /// Loads the cache for `key` (the screen's signature and the target's paths) from the
    /// repository cache directory; a missing or unreadable file is an empty cache.
    init(repositoryPath: String, key: String) {
        self.key = key
        file = "\(repositoryPath)/imagebump-screen-\(Self.fnv1a(key))"
        guard let data = FileManager.default.contents(atPath: file) else { return }
        let bytes = [UInt8](data)
        // Split on newline bytes by hand: cheap for thousands of lines.
        guard let headerEnd = bytes.firstIndex(of: 0x0A),
            bytes[..<headerEnd].elementsEqual(key.replacingOccurrences(of: "\n", with: " ").utf8)
        else { return }
        empty.reserveCapacity(bytes.count / 60)
        var start = headerEnd + 1
        for index in start..<bytes.count where bytes[index] == 0x0A {
            if index > start { empty.insert(Array(bytes[start..<index])) }
            start = index + 1
        }
    }

    func isEmpty(path: String, tree: ObjectID) -> Bool { empty.contains(Array("\(tree.hex) \(path)".utf8)) }

    func markEmpty(path: String, tree: ObjectID) {
        if empty.insert(Array("\(tree.hex) \(path)".utf8)).inserted { changed = true }
    }

    /// Writes the cache if it changed (atomically; a failure only costs speed next time).
    func save() {
        guard changed else { return }
        if empty.count > Self.maximumEntries { empty.removeAll() }
        var bytes = Array((key.replacingOccurrences(of: "\n", with: " ") + "\n").utf8)
        for entry in empty {
            bytes += entry
            bytes.append(0x0A)
        }
        try? Data(bytes).write(to: URL(fileURLWithPath: file), options: .atomic)
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
