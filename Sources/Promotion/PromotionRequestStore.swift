import Foundation
import Journal

/// An operation on a promotion asked of a replica that does not hold the leader lease: kept in
/// the journal until the holder carries it out (several replicas on one PostgreSQL journal).
public struct PromotionRequest: Sendable, Hashable {
    public enum Action: String, Sendable, CaseIterable {
        case approve, retry, cancel
    }

    public let id: String
    public let promotion: String
    public let action: Action
}

extension Journal {
    static let promotionRequestTables = """
        CREATE TABLE IF NOT EXISTS promotion_requests (
          id TEXT PRIMARY KEY, promotion_id TEXT NOT NULL, action TEXT NOT NULL, requested_at TEXT NOT NULL, done_at TEXT, outcome TEXT);
        CREATE INDEX IF NOT EXISTS promotion_requests_pending ON promotion_requests(id) WHERE done_at IS NULL;
        """

    /// Keeps `action` on `promotion` for the lease holder; its request id.
    public func requestPromotion(_ action: PromotionRequest.Action, _ promotion: String, now: Date = Date()) async throws(DatabaseError) -> String {
        let id = EventID.make(now)
        _ = try await submit { database, _ throws(DatabaseError) in
            try database.prepare("INSERT INTO promotion_requests (id, promotion_id, action, requested_at) VALUES (?,?,?,?)")
                .run([.text(id), .text(promotion), .text(action.rawValue), .text(Timestamp.iso8601(now))])
        }
        return id
    }

    /// Requests not carried out yet, oldest first.
    public func pendingPromotionRequests() async throws(DatabaseError) -> [PromotionRequest] {
        try await submit { database, _ throws(DatabaseError) in
            try database.prepare("SELECT id, promotion_id, action FROM promotion_requests WHERE done_at IS NULL ORDER BY id").run([]).compactMap { row in
                guard let id = row[0].text, let promotion = row[1].text, let action = row[2].text.flatMap(PromotionRequest.Action.init) else {
                    return nil
                }
                return PromotionRequest(id: id, promotion: promotion, action: action)
            }
        }
    }

    /// Marks a request carried out (or refused: `outcome` says why).
    public func finishPromotionRequest(_ id: String, outcome: String, now: Date = Date()) async throws(DatabaseError) {
        let outcome = redact(outcome)
        _ = try await submit { database, _ throws(DatabaseError) in
            try database.prepare("UPDATE promotion_requests SET done_at = ?, outcome = ? WHERE id = ?")
                .run([.text(Timestamp.iso8601(now)), .text(outcome), .text(id)])
        }
    }
}

extension PromotionEngine {
    /// Carries out a request another replica journaled; what came of it.
    public func carryOut(_ request: PromotionRequest) async -> String {
        do {
            let record: PromotionRecord
            switch request.action {
            case .approve: record = try await approve(request.promotion)
            case .retry: record = try await retry(request.promotion)
            case .cancel: record = try await cancel(request.promotion)
            }
            return "\(request.action.rawValue): promotion \(record.id) is \(record.state.rawValue) in \(record.environment)"
        } catch {
            return "\(request.action.rawValue) refused: \(error.detail)"
        }
    }
}
