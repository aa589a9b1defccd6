/// A path pattern such as `envs/dev/**`, `**/*.yaml` or `apps/*/values-?.yml`.
///
/// `**` spans any number of directories, `*` and `?` stay within one, `[abc]`/`[!abc]` are
/// classes. A pattern naming a directory (`envs/dev`) also matches everything below it.
public struct PathGlob: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    private let segments: [Substring]
    /// The segments as bytes, for matching without per-call conversions.
    private let byteSegments: [[UInt8]]

    public init(_ pattern: String) throws(PathGlobError) {
        var trimmed = Substring(pattern)
        while trimmed.hasPrefix("./") { trimmed = trimmed.dropFirst(2) }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard !trimmed.isEmpty else { throw PathGlobError(pattern: pattern, reason: "it is empty") }
        guard !trimmed.hasPrefix("/") else {
            throw PathGlobError(pattern: pattern, reason: "paths are relative to the repository root; drop the leading '/'")
        }
        let segments = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: { $0 == ".." }) {
            throw PathGlobError(pattern: pattern, reason: "'..' would leave the repository")
        }
        for segment in segments where segment.filter({ $0 == "[" }).count != segment.filter({ $0 == "]" }).count {
            throw PathGlobError(pattern: pattern, reason: "the class in \"\(segment)\" is not closed with ']'")
        }
        self.pattern = pattern
        self.segments = segments
        self.byteSegments = segments.map { Array($0.utf8) }
    }

    public var description: String { pattern }

    /// Whether the `/`-separated relative path matches (or lies below a matching directory).
    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return Self.match(segments[...], parts[...], allowPrefix: true)
    }

    /// Whether some path below `directory` could match: tree walks skip the other subtrees.
    public func mayMatch(inside directory: String) -> Bool {
        let parts = Array(directory.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        return Self.prefixMatch(byteSegments[...], parts[...])
    }

    private static func prefixMatch(_ pattern: ArraySlice<[UInt8]>, _ path: ArraySlice<ArraySlice<UInt8>>) -> Bool {
        guard let part = path.first, let head = pattern.first else { return true }
        if head == [UInt8(ascii: "*"), UInt8(ascii: "*")] { return true }
        guard matchSegment(head[...], part) else { return false }
        return prefixMatch(pattern.dropFirst(), path.dropFirst())
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>, allowPrefix: Bool) -> Bool {
        guard let head = pattern.first else { return path.isEmpty || allowPrefix }
        if head == "**" {
            let rest = pattern.dropFirst()
            if rest.isEmpty { return true }
            var remaining = path
            while true {
                if match(rest, remaining, allowPrefix: allowPrefix) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let part = path.first, matchSegment(Array(head.utf8)[...], Array(part.utf8)[...]) else { return false }
        return match(pattern.dropFirst(), path.dropFirst(), allowPrefix: allowPrefix)
    }

    private static func matchSegment(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        switch first {
        case UInt8(ascii: "*"):
            var rest = text
            while true {
                if matchSegment(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case UInt8(ascii: "?"):
            return !text.isEmpty && matchSegment(pattern.dropFirst(), text.dropFirst())
        case UInt8(ascii: "["):
            guard let byte = text.first, let close = pattern.firstIndex(of: UInt8(ascii: "]")) else { return false }
            var members = pattern[(pattern.startIndex + 1)..<close]
            let negated = members.first == UInt8(ascii: "!") || members.first == UInt8(ascii: "^")
            if negated { members = members.dropFirst() }
            guard members.contains(byte) != negated else { return false }
            return matchSegment(pattern[(close + 1)...], text.dropFirst())
        default:
            return text.first == first && matchSegment(pattern.dropFirst(), text.dropFirst())
        }
    }
}

/// A path pattern that cannot be used, and why.
public struct PathGlobError: Error, Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    public let reason: String
    public var description: String { "the path pattern \"\(pattern)\" is not usable: \(reason)" }
}
