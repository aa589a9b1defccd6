import Events
import Forge
import Foundation
import ImageReference
import Journal
import Logging
import Manifests
import Pipeline
import Workers

/// The view people ask for: what each environment runs, and what is on its way there.
extension PromotionEngine {
    /// What one image's chain looks like now: each environment in order with what it runs
    /// (from the journal's record of commits and merges, not from where a promotion stopped),
    /// and the promotions in flight, newest first.
    public struct Overview: Sendable {
        public struct Environment: Sendable {
            public let name: String
            /// Nil until imagebump wrote (or saw merged) a tag there.
            public let running: Journal.Deployment?
        }

        public struct InFlight: Sendable {
            public let record: PromotionRecord
            /// The gate it waits for: smoke, merged, manual (none while it is being written).
            public let gate: String
        }

        public let image: String
        public let chain: String
        public let environments: [Environment]
        public let inFlight: [InFlight]
    }

    /// Every chain's images, as ``Overview``s.
    public func overview() async throws(DatabaseError) -> [Overview] {
        let deployments = try await journal.deployments()
        let open = try await journal.promotions(open: true, limit: 1000)
        var views: [Overview] = []
        for chain in chains {
            for image in chain.images {
                let environments = chain.steps.map { step in
                    Overview.Environment(name: step.target, running: deployments.first { $0.target == step.target && $0.image == image })
                }
                let inFlight = open.filter { $0.chain == chain.name && $0.image == image }.map { record in
                    Overview.InFlight(
                        record: record,
                        gate: record.state == .promoting
                            ? "none" : chain.steps.indices.contains(record.step) ? chain.steps[record.step].gate(record.gate).name : "none")
                }
                views.append(Overview(image: image, chain: chain.name, environments: environments, inFlight: inFlight))
            }
        }
        return views
    }
}

/// Why an operator's request about a promotion was refused: a code to match, the HTTP status
/// it answers, what to tell the operator, and the journal's error when it could not be read or
/// written.
public struct PromotionError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No promotion has that id.
        case notFound
        /// The promotion is not in a state that allows it (approve one not waiting for
        /// approval, retry one that did not fail, cancel one that ended).
        case wrongState
        /// The journal cannot be read or written right now.
        case journalUnavailable
    }

    public let code: Code
    public let detail: String
    public let underlying: DatabaseError?

    public init(_ code: Code, _ detail: String, underlying: DatabaseError? = nil) {
        self.code = code
        self.detail = detail
        self.underlying = underlying
    }

    /// The HTTP status the admin API answers with.
    public var status: Int {
        switch code {
        case .notFound: 404
        case .wrongState: 409
        case .journalUnavailable: 503
        }
    }

    public var description: String { detail }
}
