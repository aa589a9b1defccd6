/// Environments a release walks through in order (dev → acc → prd). A tag enters the first
/// environment from image events; it reaches environment N+1 only after environment N's gate
/// passed.
public struct PromotionChain: Sendable {
    /// What must hold in an environment before the tag moves on.
    public enum Gate: Sendable {
        /// Nothing: move on as soon as the commit is pushed.
        case none
        /// HTTP checks against the environment prove the new tag is serving.
        case smoke(SmokeGate)
        /// The environment's merge request (a `branch` target) must be merged.
        case merged
        /// Someone approves: `POST /v1/promotions/ID/approve` or `imagebump promotions approve ID`.
        case manual

        public var name: String {
            switch self {
            case .none: "none"
            case .smoke: "smoke"
            case .merged: "merged"
            case .manual: "manual"
            }
        }
    }

    /// One environment of the chain and what must hold there, in order: a tag moves on once
    /// every gate passed (`gates: [merged, manual]`: merged first, then approved). No gate: it
    /// moves on as soon as it is written.
    public struct Step: Sendable {
        /// The target (environment) name.
        public let target: String
        public let gates: [Gate]

        public init(target: String, gates: [Gate]) {
            self.target = target
            self.gates = gates.filter { if case .none = $0 { false } else { true } }
        }

        public init(target: String, gate: Gate) { self.init(target: target, gates: [gate]) }

        /// The gate at `index`, `.none` past the last.
        public func gate(_ index: Int) -> Gate { gates.indices.contains(index) ? gates[index] : .none }
    }

    public let name: String
    /// `registry/repository` of every image the chain promotes.
    public let images: [String]
    public let steps: [Step]
    /// When smoke checks fail, write the environment's previous tag back (a commit, or a merge
    /// request for `branch` targets); otherwise the chain only stops.
    public let revertOnSmokeFailure: Bool

    public init(name: String, images: [String], steps: [Step], revertOnSmokeFailure: Bool = false) {
        self.name = name
        self.images = images
        self.steps = steps
        self.revertOnSmokeFailure = revertOnSmokeFailure
    }

    /// The first environment: the only one image events write to directly.
    public var entry: String? { steps.first?.target }
}
