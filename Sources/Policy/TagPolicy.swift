import ImageReference
import Foundation

/// A policy setting that cannot be read.
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The policy key at fault (`semver`, `pattern`, `ignore`, …).
    public let field: String
    public let detail: String

    public init(field: String, detail: String) {
        self.field = field
        self.detail = detail
    }

    public var description: String { "\(field): \(detail)" }
}

/// Which tags a target takes for an image, and in what order they rank, so that no event ever
/// moves a target to a lower tag.
///
/// - `semver`: a range (``SemverRange``); tags rank by SemVer precedence.
/// - `pattern`: a regular expression with a named capture (`(?P<ts>[0-9]+)` or `(?<ts>…)`)
///   whose value ranks the tags `numerical`ly, `alphabetical`ly or by `semver`.
/// - neither: any tag; tags that both read as versions rank by SemVer, others by arrival.
/// - `ignore`: globs (`latest`, `*-rc*`, `sha-*`) never taken, whatever else matches.
/// - `digest`: what to do with digests (see ``DigestMode``).
public struct TagPolicy: Sendable, Hashable {
    public enum Ordering: String, Sendable, Hashable, CaseIterable {
        case numerical, alphabetical, semver
    }

    /// What a policy says of one tag.
    public enum Verdict: Sendable, Hashable {
        case accepted
        case rejected(String)
    }

    public enum Filter: Sendable, Hashable {
        case any
        case semver(SemverRange, includePrerelease: Bool)
        case pattern(TagPattern, Ordering)
    }

    public var filter: Filter
    public var ignore: [String]
    public var digest: DigestMode

    public init(filter: Filter = .any, ignore: [String] = [], digest: DigestMode = .keep) {
        self.filter = filter
        self.ignore = ignore
        self.digest = digest
    }

    /// Any tag, ranked by SemVer where tags read as versions.
    public static let any = TagPolicy()

    /// Whether a target may take `tag`, and if not, why.
    public func verdict(_ tag: String) -> Verdict {
        if let glob = ignore.first(where: { Self.glob($0, matches: tag) }) { return .rejected("ignored by \"\(glob)\"") }
        switch filter {
        case .any:
            return .accepted
        case .semver(let range, let includePrerelease):
            guard let version = SemanticVersion(tag) else { return .rejected("not a semantic version") }
            guard range.contains(version, includePrerelease: includePrerelease) else {
                return .rejected(version.isPrerelease && !includePrerelease ? "a pre-release, outside \(range)" : "outside \(range)")
            }
            return .accepted
        case .pattern(let pattern, let ordering):
            guard let value = pattern.extract(tag) else { return .rejected("does not match \(pattern)") }
            if ordering == .numerical, Double(value) == nil { return .rejected("\(pattern.group) \"\(value)\" is not a number") }
            if ordering == .semver, SemanticVersion(value) == nil {
                return .rejected("\(pattern.group) \"\(value)\" is not a semantic version")
            }
            return .accepted
        }
    }

    /// How two tags rank under this policy: `.orderedAscending` when `lhs` is lower; nil when
    /// the policy cannot rank them (then arrival decides).
    public func compare(_ lhs: String, _ rhs: String) -> ComparisonResult? {
        func ranked<T: Comparable>(_ a: T?, _ b: T?) -> ComparisonResult? {
            guard let a, let b else { return nil }
            return a < b ? .orderedAscending : b < a ? .orderedDescending : .orderedSame
        }
        switch filter {
        case .any, .semver:
            return ranked(SemanticVersion(lhs), SemanticVersion(rhs))
        case .pattern(let pattern, let ordering):
            let (a, b) = (pattern.extract(lhs), pattern.extract(rhs))
            switch ordering {
            case .numerical: return ranked(a.flatMap(Double.init), b.flatMap(Double.init))
            case .alphabetical: return ranked(a, b)
            case .semver: return ranked(a.flatMap(SemanticVersion.init), b.flatMap(SemanticVersion.init))
            }
        }
    }

    /// The highest of `tags` the policy accepts (ties and unrankable tags: the later one wins).
    public func best(_ tags: [String]) -> String? {
        tags.filter { verdict($0) == .accepted }.reduce(nil) { best, tag in
            guard let best else { return tag }
            return compare(tag, best) == .orderedAscending ? best : tag
        }
    }

    /// What polling takes from a registry's tags: the highest the policy accepts among those it
    /// can rank (without a `semver` or `pattern` policy, only tags that read as versions rank;
    /// a registry's list has no arrival order). Nil when no tag qualifies.
    public func newest(_ tags: [String]) -> String? {
        best(tags.filter { compare($0, $0) != nil })
    }

    /// `*` any run of characters, `?` one; the whole tag must match.
    static func glob(_ pattern: String, matches tag: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(tag.utf8)
        var (pi, ti, star, mark) = (0, 0, -1, 0)
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// A tag pattern with a named capture that ranks matching tags, like Flux's `filterTags`
/// `pattern` + `extract`. Python's `(?P<name>…)` is accepted as well as `(?<name>…)`.
public struct TagPattern: Sendable, Hashable, CustomStringConvertible {
    public let pattern: String
    /// The capture whose value ranks tags.
    public let group: String
    private let expression: Expression

    /// The compiled expression, hashed by its pattern.
    private struct Expression: @unchecked Sendable, Hashable {  // NSRegularExpression is immutable and safe to share across threads
        let regex: NSRegularExpression
        static func == (lhs: Expression, rhs: Expression) -> Bool { lhs.regex.pattern == rhs.regex.pattern }
        func hash(into hasher: inout Hasher) { hasher.combine(regex.pattern) }
    }

    public init(_ pattern: String, group: String? = nil) throws(PolicyError) {
        let translated = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: translated) } catch {
            throw PolicyError(field: "pattern", detail: "\"\(pattern)\" is not a regular expression")
        }
        let names = Self.groupNames(translated)
        guard let chosen = group ?? names.first else {
            throw PolicyError(field: "pattern", detail: "\"\(pattern)\" has no named capture to rank tags by; add one like (?P<ts>[0-9]+)")
        }
        guard names.contains(chosen) else {
            throw PolicyError(field: "extract", detail: "\"\(pattern)\" has no capture named \(chosen)")
        }
        self.pattern = pattern
        self.group = chosen
        expression = Expression(regex: regex)
    }

    public var description: String { pattern }

    /// The named capture's value when the whole tag matches.
    public func extract(_ tag: String) -> String? {
        let whole = NSRange(tag.startIndex..., in: tag)
        guard let match = expression.regex.firstMatch(in: tag, options: [.anchored], range: whole), match.range == whole else { return nil }
        let range = match.range(withName: group)
        guard range.location != NSNotFound, let swiftRange = Range(range, in: tag) else { return nil }
        return String(tag[swiftRange])
    }

    static func groupNames(_ pattern: String) -> [String] {
        var names: [String] = []
        var rest = Substring(pattern)
        while let start = rest.range(of: "(?<") {
            rest = rest[start.upperBound...]
            guard let first = rest.first, first != "=", first != "!", let end = rest.firstIndex(of: ">") else { continue }
            names.append(String(rest[..<end]))
        }
        return names
    }
}
