/// Brings a forge to "exactly one open merge request from this branch, saying this": find it
/// (by branch, or by the hidden marker), update it if it says something else, or create it —
/// and when creating races with another creator, find and update instead. Replays change
/// nothing: an identical request makes no write.
public struct MergeRequestSync: Sendable {
    /// What the sync did.
    public enum Outcome: String, Sendable {
        case created, updated, unchanged
    }

    let forge: any Forge

    public init(forge: any Forge) {
        self.forge = forge
    }

    public func ensure(_ content: MergeRequestContent) async throws(ForgeError) -> (request: MergeRequest, outcome: Outcome) {
        if let existing = try await forge.findOpenMergeRequest(head: content.head, base: content.base, marker: content.marker) {
            return try await bringUpToDate(existing, content)
        }
        let created: MergeRequest
        do {
            created = try await forge.openMergeRequest(content)
        } catch  where error.code == .alreadyExists {
            guard let existing = try await forge.findOpenMergeRequest(head: content.head, base: content.base, marker: content.marker) else {
                throw error
            }
            return try await bringUpToDate(existing, content)
        }
        try await decorate(created, content)
        return (created, .created)
    }

    private func bringUpToDate(_ existing: MergeRequest, _ content: MergeRequestContent) async throws(ForgeError) -> (
        request: MergeRequest, outcome: Outcome
    ) {
        guard existing.title != content.title || content.comparable(existing.body) != content.comparable(content.body) else {
            return (existing, .unchanged)
        }
        let updated = try await forge.updateMergeRequest(existing.number, title: content.title, body: content.body)
        try await decorate(updated, content)
        return (updated, .updated)
    }

    private func decorate(_ request: MergeRequest, _ content: MergeRequestContent) async throws(ForgeError) {
        if !content.labels.isEmpty { try await forge.addLabels(request.number, content.labels) }
        if !content.reviewers.isEmpty { try await forge.requestReviewers(request.number, content.reviewers) }
        if content.autoMerge { try await forge.enableAutoMerge(request) }
    }
}
