import Forge
import Pipeline
import Policy

/// Where one image goes: a write-back target, its forge (for merge requests), options, and the
/// tag policy that decides which tags the target takes.
public struct Route: Sendable {
    public let target: GitTarget
    public let forge: (any Forge)?
    public let options: MergeRequestOptions
    public let policy: TagPolicy

    public init(target: GitTarget, forge: (any Forge)?, options: MergeRequestOptions, policy: TagPolicy = .any) {
        self.target = target
        self.forge = forge
        self.options = options
        self.policy = policy
    }
}
