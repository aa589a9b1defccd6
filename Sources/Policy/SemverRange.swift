import Foundation

/// A version range in the npm/Helm style: `^1.2`, `~1.4.0`, `>=1.0.0 <2.0.0`, `1.x`, `*`,
/// `1.2 - 1.4`, alternatives joined by `||`. Pre-releases match only when asked for
/// (`includePrerelease`) or when a bound of the same alternative names a pre-release of the
/// same `major.minor.patch` (npm's rule: `>=1.5.0-rc.1` admits `1.5.0-rc.2`, not `1.6.0-rc.1`).
public struct SemverRange: Sendable, Hashable, CustomStringConvertible {
    /// One bound: `>= 1.2.0`, `< 2.0.0-0`…
    struct Comparator: Sendable, Hashable {
        enum Operator: String, Sendable {
            case less = "<"
            case lessOrEqual = "<="
            case greater = ">"
            case greaterOrEqual = ">="
            case equal = "="
        }
        let op: Operator
        let version: SemanticVersion

        func admits(_ candidate: SemanticVersion) -> Bool {
            switch op {
            case .less: candidate < version
            case .lessOrEqual: !(version < candidate)
            case .greater: version < candidate
            case .greaterOrEqual: !(candidate < version)
            case .equal: candidate == version
            }
        }
    }

    public let text: String
    /// Alternatives (`||`), each a conjunction of bounds.
    let alternatives: [[Comparator]]

    public var description: String { text }

    /// Parses a range; the error says which part is not understood.
    public init(_ text: String) throws(PolicyError) {
        self.text = text
        var alternatives: [[Comparator]] = []
        for alternative in text.components(separatedBy: "||") {
            alternatives.append(try Self.parseAlternative(alternative.trimmingCharacters(in: .whitespaces), in: text))
        }
        self.alternatives = alternatives
    }

    /// Whether `version` is in the range.
    public func contains(_ version: SemanticVersion, includePrerelease: Bool = false) -> Bool {
        alternatives.contains { comparators in
            guard comparators.allSatisfy({ $0.admits(version) }) else { return false }
            guard version.isPrerelease, !includePrerelease else { return true }
            return comparators.contains {
                $0.version.isPrerelease
                    && ($0.version.major, $0.version.minor, $0.version.patch) == (version.major, version.minor, version.patch)
            }
        }
    }

    // MARK: - Parsing

    /// A partial version: missing or wildcard parts are nil (`1.x` → 1, nil, nil).
    struct Partial {
        var major: Int?
        var minor: Int?
        var patch: Int?
        var prerelease: [String] = []

        var full: SemanticVersion { SemanticVersion(major: major ?? 0, minor: minor ?? 0, patch: patch ?? 0, prerelease: prerelease) }
    }

    static func lowest(_ major: Int, _ minor: Int, _ patch: Int) -> SemanticVersion {
        SemanticVersion(major: major, minor: minor, patch: patch, prerelease: ["0"])
    }

    static func parsePartial(_ text: Substring, in range: String) throws(PolicyError) -> Partial {
        var rest = text
        if rest.first == "v" || rest.first == "V" || rest.first == "=" { rest = rest.dropFirst() }
        if let plus = rest.firstIndex(of: "+") { rest = rest[..<plus] }
        var partial = Partial()
        if let dash = rest.firstIndex(of: "-") {
            partial.prerelease = rest[rest.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard partial.prerelease.allSatisfy({ SemanticVersion.isIdentifier(Substring($0)) }) else {
                throw PolicyError(field: "semver", detail: "\"\(text)\" in \"\(range)\" has an invalid pre-release")
            }
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else {
            throw PolicyError(
                field: "semver", detail: "\"\(text)\" in \"\(range)\" is not a version (write 1, 1.4 or 1.4.2, with x or * for any)")
        }
        var values: [Int?] = []
        var wildcard = false
        for part in parts {
            if ["x", "X", "*"].contains(part) {
                wildcard = true
                values.append(nil)
            } else if !wildcard, let value = Int(part), value >= 0, part.allSatisfy({ $0.isASCII && $0.isNumber }) {
                values.append(value)
            } else {
                throw PolicyError(
                    field: "semver", detail: "\"\(text)\" in \"\(range)\" is not a version (write 1, 1.4 or 1.4.2, with x or * for any)")
            }
        }
        while values.count < 3 { values.append(nil) }
        partial.major = values[0]
        partial.minor = values[1]
        partial.patch = values[2]
        if partial.patch == nil { partial.prerelease = [] }
        return partial
    }

    static func parseAlternative(_ text: String, in range: String) throws(PolicyError) -> [Comparator] {
        if text.isEmpty { return [Comparator(op: .greaterOrEqual, version: SemanticVersion(major: 0, minor: 0, patch: 0))] }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 3, words[1] == "-" {
            // Hyphen range: inclusive on both ends, a partial upper end covers its whole span.
            let low = try parsePartial(words[0], in: range)
            let high = try parsePartial(words[2], in: range)
            var result = [Comparator(op: .greaterOrEqual, version: low.full)]
            if let upper = upperBound(high, inclusive: true) { result.append(upper) }
            return result
        }
        var comparators: [Comparator] = []
        var pendingOperator: Substring?
        for word in words {
            if ["<", "<=", ">", ">=", "=", "~", "^"].contains(word) {
                pendingOperator = word
                continue
            }
            let joined = (pendingOperator ?? "") + word
            pendingOperator = nil
            comparators += try parseSimple(joined, in: range)
        }
        if let pendingOperator {
            throw PolicyError(field: "semver", detail: "\"\(pendingOperator)\" in \"\(range)\" is not followed by a version")
        }
        return comparators
    }

    /// The bound below everything a partial upper end covers (`<=1.4` → `<1.5.0-0`).
    static func upperBound(_ partial: Partial, inclusive: Bool) -> Comparator? {
        guard let major = partial.major else { return nil }
        guard let minor = partial.minor else { return Comparator(op: .less, version: lowest(major + 1, 0, 0)) }
        guard partial.patch != nil else { return Comparator(op: .less, version: lowest(major, minor + 1, 0)) }
        return Comparator(op: inclusive ? .lessOrEqual : .less, version: partial.full)
    }

    static func parseSimple(_ word: Substring, in range: String) throws(PolicyError) -> [Comparator] {
        for op in [">=", "<=", ">", "<", "="] where word.hasPrefix(op) {
            let partial = try parsePartial(word.dropFirst(op.count), in: range)
            guard let major = partial.major else {
                // `>=*` is anything, `<*` nothing.
                return op.hasPrefix("<") && op != "<="
                    ? [Comparator(op: .less, version: lowest(0, 0, 0))]
                    : [Comparator(op: .greaterOrEqual, version: SemanticVersion(major: 0, minor: 0, patch: 0))]
            }
            switch op {
            case ">=": return [Comparator(op: .greaterOrEqual, version: partial.full)]
            case ">":
                guard let minor = partial.minor else { return [Comparator(op: .greaterOrEqual, version: lowest(major + 1, 0, 0))] }
                guard partial.patch != nil else { return [Comparator(op: .greaterOrEqual, version: lowest(major, minor + 1, 0))] }
                return [Comparator(op: .greater, version: partial.full)]
            case "<=": return upperBound(partial, inclusive: true).map { [$0] } ?? []
            case "<":
                return [Comparator(op: .less, version: partial.patch == nil ? lowest(major, partial.minor ?? 0, 0) : partial.full)]
            default: return try xRange(partial)
            }
        }
        if word.hasPrefix("~") {
            let partial = try parsePartial(word.dropFirst().drop { $0 == ">" }, in: range)
            guard let major = partial.major else { return try xRange(partial) }
            let upper = partial.minor.map { lowest(major, $0 + 1, 0) } ?? lowest(major + 1, 0, 0)
            return [Comparator(op: .greaterOrEqual, version: partial.full), Comparator(op: .less, version: upper)]
        }
        if word.hasPrefix("^") {
            let partial = try parsePartial(word.dropFirst(), in: range)
            guard let major = partial.major else { return try xRange(partial) }
            let upper: SemanticVersion
            if major > 0 || partial.minor == nil {
                upper = lowest(major + 1, 0, 0)
            } else if let minor = partial.minor, minor > 0 || partial.patch == nil {
                upper = lowest(0, minor + 1, 0)
            } else {
                upper = lowest(0, 0, (partial.patch ?? 0) + 1)
            }
            return [Comparator(op: .greaterOrEqual, version: partial.full), Comparator(op: .less, version: upper)]
        }
        return try xRange(try parsePartial(word, in: range))
    }

    /// `1.2.3` exactly; `1.2`, `1.2.x` its minor; `1`, `1.x` its major; `*` anything.
    static func xRange(_ partial: Partial) throws(PolicyError) -> [Comparator] {
        guard partial.major != nil else { return [Comparator(op: .greaterOrEqual, version: SemanticVersion(major: 0, minor: 0, patch: 0))] }
        guard partial.patch != nil else {
            return [Comparator(op: .greaterOrEqual, version: partial.full)] + (upperBound(partial, inclusive: true).map { [$0] } ?? [])
        }
        return [Comparator(op: .equal, version: partial.full)]
    }
}
