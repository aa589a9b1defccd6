import ImageReference
import Policy
import Yams

/// Reading tag policies: `images[].policy` and `images[].targetPolicies.TARGET`.
extension ConfigurationLoader {
    static let policyKeys = ["semver", "prerelease", "pattern", "extract", "order", "ignore", "digest"]

    /// A policy mapping: `{semver: "^1.4"}`, `{pattern: '^main-(?P<ts>[0-9]+)$', order: numerical}`,
    /// with `ignore: [globs]`, `digest: keep|pin|only` and `prerelease: true|false` (semver).
    /// Keys not given keep `base`'s value (a target's policy overrides only what it names).
    mutating func readPolicy(_ node: Node, _ path: String, base: TagPolicy = TagPolicy()) -> TagPolicy? {
        guard let fields = reader.mapping(node, path, known: Self.policyKeys) else { return nil }
        var policy = base
        if fields["semver"] != nil, fields["pattern"] != nil {
            reader.report(node, path, "a policy has either semver or pattern, not both")
            return nil
        }
        var includePrerelease = false
        if case .semver(_, let inherited) = base.filter { includePrerelease = inherited }
        if let value = fields["prerelease"]?.value, let flag = reader.flag(value, "\(path).prerelease") {
            includePrerelease = flag
            // `prerelease` alone changes the inherited range's pre-release rule.
            if fields["semver"] == nil, case .semver(let range, _) = base.filter { policy.filter = .semver(range, includePrerelease: flag) }
        }
        if let node = fields["semver"]?.value, let text = reader.string(node, "\(path).semver") {
            do { policy.filter = .semver(try SemverRange(text), includePrerelease: includePrerelease) } catch {
                reader.report(node, "\(path).semver", error.detail)
            }
        }
        if let node = fields["pattern"]?.value, let text = reader.string(node, "\(path).pattern") {
            let extract = fields["extract"].flatMap { reader.string($0.value, "\(path).extract") }
            let order = fields["order"].flatMap { reader.choice($0.value, "\(path).order", as: TagPolicy.Ordering.self) } ?? .numerical
            do { policy.filter = .pattern(try TagPattern(text, group: extract), order) } catch {
                reader.report(error.field == "extract" ? fields["extract"]?.value ?? node : node, "\(path).\(error.field)", error.detail)
            }
        } else {
            for key in ["extract", "order"] where fields[key] != nil {
                reader.report(fields[key]?.value, "\(path).\(key)", "\(key) belongs to a pattern policy; add pattern: with a named capture")
            }
        }
        if let list = fields["ignore"] { policy.ignore = reader.strings(list.value, "\(path).ignore").map(\.0) }
        if let node = fields["digest"]?.value, let mode = reader.choice(node, "\(path).digest", as: DigestMode.self) {
            policy.digest = mode
        }
        return policy
    }

    /// `targetPolicies: {prd: {semver: "~1.4.0"}}`: per-target overrides of the image's policy —
    /// only the keys given; `ignore`, `digest` and the rest stay the image's.
    mutating func readTargetPolicies(_ node: Node, _ path: String, base: TagPolicy) -> [String: TagPolicy] {
        guard case .mapping(let mapping) = node else {
            reader.report(node, path, "expected a mapping of target name → policy, e.g. {prd: {semver: \"~1.4.0\"}}")
            return [:]
        }
        var policies: [String: TagPolicy] = [:]
        for (key, value) in mapping {
            guard let target = key.string else { continue }
            if let policy = readPolicy(value, "\(path).\(target)", base: base) { policies[target] = policy }
            nodes["target-policy:\(path).\(target)"] = (key, "\(path).\(target)")
        }
        return policies
    }
}
