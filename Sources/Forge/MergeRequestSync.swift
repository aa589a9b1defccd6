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

    /// What the sync did, and what it could not add: labels, reviewers and auto-merge are
    /// extras — the request was opened or updated either way, and each failure is a warning
    /// that says what to fix.
    public struct Result: Sendable {
        public let request: MergeRequest
        public let outcome: Outcome
        public let warnings: [String]
    }

    public func ensure(_ content: MergeRequestContent) async throws(ForgeError) -> Result {
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
        return Result(request: created, outcome: .created, warnings: await decorate(created, content))
    }

    /// Title prefixes that mark a draft on GitLab (`Draft:`, and the older ones) and Gitea/Forgejo (`WIP:`).
    static let draftPrefixes = ["Draft: ", "Draft:", "[Draft] ", "[Draft]", "(Draft) ", "WIP: ", "[WIP] "]

    /// A title's draft prefix (empty when none) and the rest.
    static func splitDraft(_ title: String) -> (prefix: String, title: String) {
        for prefix in draftPrefixes where title.hasPrefix(prefix) { return (prefix, String(title.dropFirst(prefix.count))) }
        return ("", title)
    }

    /// An open request is brought to the content; a draft stays a draft (its prefix is kept),
    /// and a request a person took out of draft stays out (no prefix is added back).
    private func bringUpToDate(_ existing: MergeRequest, _ content: MergeRequestContent) async throws(ForgeError) -> Result {
        let (prefix, title) = Self.splitDraft(existing.title)
        let wanted = Self.splitDraft(content.title).title
        guard title != wanted || content.comparable(existing.body) != content.comparable(content.body) else {
            return Result(request: existing, outcome: .unchanged, warnings: [])
        }
        let updated = try await forge.updateMergeRequest(existing.number, title: prefix + wanted, body: content.body)
        return Result(request: updated, outcome: .updated, warnings: await decorate(updated, content))
    }

    /// Labels, reviewers, auto-merge: each one's failure is a warning naming what to fix.
    private func decorate(_ request: MergeRequest, _ content: MergeRequestContent) async -> [String] {
        var warnings: [String] = []
        func fix(_ error: ForgeError, _ what: String) -> String {
            let hint: String
            switch error.code {
            case .notFound: hint = "check that they exist on the forge (a label to create, a user name or id to correct)"
            case .forbidden, .unauthorized: hint = "give the token permission to change pull requests (issues: write on GitHub)"
            case .notAllowed: hint = "the forge does not offer it here; remove it from mergeRequest for this target"
            case .validation: hint = "the forge refused the values; correct them in mergeRequest for this target"
            default: hint = "it is tried again with the next update of this request"
            }
            return "\(what) not set on #\(request.number): \(error.message) — \(hint)"
        }
        if !content.labels.isEmpty {
            do { try await forge.addLabels(request.number, content.labels) } catch { warnings.append(fix(error, "labels \(content.labels.joined(separator: ", "))")) }
        }
        if !content.reviewers.isEmpty {
            do { try await forge.requestReviewers(request.number, content.reviewers) } catch {
                warnings.append(fix(error, "reviewers \(content.reviewers.joined(separator: ", "))"))
            }
        }
        if content.autoMerge {
            do { try await forge.enableAutoMerge(request, method: content.mergeMethod) } catch { warnings.append(fix(error, "auto-merge")) }
        }
        return warnings
    }
}
