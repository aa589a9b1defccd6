import ImageReference

/// A promotion chain as configured: `promotions[]`. Image events write to the first step's
/// target only; each step's gate must pass before the tag is written to the next step's target.
public struct PromotionSettings: Sendable, Hashable {
    /// One HTTP check of a smoke gate; `{tag}` in `bodyContains` and `equals` is the promoted tag.
    public struct SmokeCheck: Sendable, Hashable {
        public var url: String
        public var status = 200
        public var bodyContains: String?
        public var jsonField: String?
        public var equals = "{tag}"
    }

    public enum Gate: Sendable, Hashable {
        case none, manual, merged
        case smoke(checks: [SmokeCheck], timeoutSeconds: Int, intervalSeconds: Int)

        public var isSmoke: Bool { if case .smoke = self { true } else { false } }
    }

    /// One environment and its gates, checked in order (`gate: manual` is `gates: [manual]`).
    /// On a `branch` target the tag is only there once its merge request is merged: a `merged`
    /// gate is added when none is listed (before the first smoke gate, else last).
    public struct Step: Sendable, Hashable {
        public var target: String
        public var gates: [Gate]
    }

    public var name: String
    public var images: [ImageName]
    public var steps: [Step]
    /// `onSmokeFailure: revert`: write the environment's previous tag back when its smoke checks fail.
    public var revertOnSmokeFailure = false

    /// The targets after the first: image events do not write to them directly.
    public var promotedTargets: [String] { steps.dropFirst().map(\.target) }
}
