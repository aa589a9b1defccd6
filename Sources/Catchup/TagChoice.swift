import Configuration
import Policy

/// What one target would take now from a registry's tags, and why: the same policy that
/// decides at bump time (`images[].policy`, `targetPolicies`).
public struct TagChoice: Sendable, Hashable {
    public let target: String
    /// Nil when no tag qualifies.
    public let tag: String?
    public let reason: String

    /// Each target's choice among `tags` for `image`, in the configuration's target order.
    public static func choices(_ tags: [String], image: ImageSettings, configuration: Configuration) -> [TagChoice] {
        configuration.targets(for: image.name).map { target in
            let policy = image.policy(for: target.name)
            let accepted = tags.filter { policy.verdict($0) == .accepted }
            guard let tag = policy.newest(tags) else {
                let reason: String
                if tags.isEmpty {
                    reason = "the registry has no tags"
                } else if accepted.isEmpty {
                    reason = "the policy accepts none of the \(tags.count) tags"
                } else {
                    reason =
                        "none of the \(accepted.count) accepted tags reads as a version; give the image a semver or pattern policy to rank them"
                }
                return TagChoice(target: target.name, tag: nil, reason: reason)
            }
            let rejected = tags.count - accepted.count
            var reason = "the highest of \(accepted.count) tag\(accepted.count == 1 ? "" : "s") its policy accepts"
            if rejected > 0 { reason += " (\(rejected) refused)" }
            return TagChoice(target: target.name, tag: tag, reason: reason)
        }
    }
}
