import Foundation
import Journal
import Workers

/// Where a promotion is: which environment holds the tag and what it waits for.
public enum PromotionState: String, Sendable, Hashable, CaseIterable {
    /// The environment's gate is being checked (smoke tests running).
    case gating
    /// The environment's merge request must be merged first.
    case waitingForMerge = "waiting-for-merge"
    /// Someone must approve (`POST /v1/promotions/ID/approve`).
    case waitingForApproval = "waiting-for-approval"
    /// The tag is being written to the next environment.
    case promoting
    /// The tag reached the last environment.
    case done
    /// A gate failed; the chain stopped here (see the detail).
    case failed
    /// A newer tag took its place: the merge request it waited for carried the newer one.
    case superseded
    /// An operator stopped it (`promotions cancel`).
    case cancelled
}

/// A tag walking a promotion chain, as the journal keeps it.
public struct PromotionRecord: Sendable, Hashable {
    public let id: String
    public let chain: String
    /// `registry/repository`.
    public let image: String
    public let tag: String
    public let digest: String?
    /// The event that started the promotion.
    public let eventID: String
    /// Index in the chain of the environment the tag is in now.
    public let step: Int
    /// Index in that step's gates of the one it waits for (earlier ones passed).
    public let gate: Int
    public let environment: String
    public let state: PromotionState
    public let detail: String
    public let createdAt: String
    public let updatedAt: String
    /// The tag `environment` ran before this promotion wrote to it (what a revert writes back).
    public let previousTag: String?
    /// The merge request that carries the tag into `environment` (`branch` targets): what a
    /// `merged` gate waits for, and what the forge is asked about when its webhook is late.
    public let mergeRequest: MergeRequestReference?

    public var isFinished: Bool { Self.finished.contains(state) }

    static let finished: Set<PromotionState> = [.done, .failed, .superseded, .cancelled]
    /// A promotion in one of these states starts over when its tag is sent again.
    static let restartable: Set<PromotionState> = [.failed, .cancelled]
}

extension Journal {
    static let promotionTables = """
        CREATE TABLE IF NOT EXISTS promotions (
          id TEXT PRIMARY KEY, chain TEXT NOT NULL, image TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT, event_id TEXT NOT NULL,
          step INTEGER NOT NULL, environment TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL,
          created_at TEXT NOT NULL, updated_at TEXT NOT NULL, previous_tag TEXT, merge_request INTEGER, merge_request_url TEXT,
          gate INTEGER NOT NULL DEFAULT 0);
        CREATE UNIQUE INDEX IF NOT EXISTS promotions_tag ON promotions(chain, image, tag);
        DROP INDEX IF EXISTS promotions_open;
        CREATE INDEX IF NOT EXISTS promotions_unfinished ON promotions(state) WHERE state NOT IN ('done','failed','superseded','cancelled');
        CREATE TABLE IF NOT EXISTS promotion_steps (promotion_id TEXT NOT NULL, at TEXT NOT NULL, environment TEXT NOT NULL,
          state TEXT NOT NULL, detail TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS promotion_steps_id ON promotion_steps(promotion_id);
        """
    static let promotionColumns =
        "id, chain, image, tag, digest, event_id, step, environment, state, detail, created_at, updated_at, previous_tag, merge_request, merge_request_url, gate"

    /// How ``startPromotion`` found the chain's promotion of a tag.
    public enum Start: Sendable, Equatable {
        /// None existed: this one is new.
        case new
        /// It had failed or been cancelled (in that state): the tag was sent again, so it starts over.
        case restarted(PromotionState)
        /// It runs, or ran to its end: a replayed event starts nothing.
        case existing
    }

    /// Starts a promotion of `tag` in `environment` (step 0), unless this chain already
    /// promotes this image's tag: then that one is returned (a replayed event starts nothing
    /// new) — or, when it failed or was cancelled, it starts over from the first step for this event.
    public func startPromotion(
        chain: String, image: String, tag: String, digest: String?, eventID: String, environment: String, state: PromotionState,
        detail: String, previousTag: String? = nil, mergeRequest: MergeRequestReference? = nil, now: Date = Date()
    ) async throws(DatabaseError) -> (record: PromotionRecord, start: Start) {
        let detail = redact(detail)
        return try await submit { database, _ throws(DatabaseError) in
            let existing = try database.prepare("SELECT \(Self.promotionColumns) FROM promotions WHERE chain = ? AND image = ? AND tag = ?")
                .run([.text(chain), .text(image), .text(tag)]).first.map(Self.promotion)
            let at = Timestamp.iso8601(now)
            if let existing {
                guard PromotionRecord.restartable.contains(existing.state), existing.eventID != eventID else { return (existing, .existing) }
                try database.prepare(
                    """
                    UPDATE promotions SET event_id = ?, digest = ?, step = 0, gate = 0, environment = ?, state = ?, detail = ?, updated_at = ?,
                      previous_tag = coalesce(?, CASE WHEN step = 0 THEN previous_tag END), merge_request = ?, merge_request_url = ? WHERE id = ?
                    """
                ).run([
                    .text(eventID), SQLValue(digest), .text(environment), .text(state.rawValue), .text(detail), .text(at),
                    SQLValue(previousTag), mergeRequest.map { .integer(Int64($0.number)) } ?? .null, SQLValue(mergeRequest?.url),
                    .text(existing.id),
                ])
                try Self.logPromotionStep(
                    database, id: existing.id, at: at, environment: environment, state: state,
                    detail: "started again by event \(eventID) (it was \(existing.state.rawValue) in \(existing.environment)); \(detail)")
                return (try Self.promotion(existing.id, in: database) ?? existing, .restarted(existing.state))
            }
            let id = EventID.make(now)
            try database.prepare("INSERT INTO promotions (\(Self.promotionColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)").run([
                .text(id), .text(chain), .text(image), .text(tag), SQLValue(digest), .text(eventID), .integer(0), .text(environment),
                .text(state.rawValue), .text(detail), .text(at), .text(at), SQLValue(previousTag),
                mergeRequest.map { .integer(Int64($0.number)) } ?? .null, SQLValue(mergeRequest?.url), .integer(0),
            ])
            try Self.logPromotionStep(database, id: id, at: at, environment: environment, state: state, detail: detail)
            let record = PromotionRecord(
                id: id, chain: chain, image: image, tag: tag, digest: digest, eventID: eventID, step: 0, gate: 0, environment: environment,
                state: state, detail: detail, createdAt: at, updatedAt: at, previousTag: previousTag, mergeRequest: mergeRequest)
            return (record, .new)
        }
    }

    /// Moves a promotion on, logging the step. `previousTag` and `mergeRequest` are kept for a
    /// move to another step (what that environment ran before, the request that carries the tag
    /// there); within a step, `previousTag` is ignored and a `mergeRequest` given replaces the one
    /// kept. `gate` is the step's gate it waits for now: kept within a step unless given, 0 in a new step.
    /// A promotion that failed or was cancelled releases its event from the deduplication window:
    /// sending the tag again starts it over.
    @discardableResult
    public func updatePromotion(
        _ id: String, step: Int, gate: Int? = nil, environment: String, state: PromotionState, detail: String,
        previousTag: String? = nil, mergeRequest: MergeRequestReference? = nil, now: Date = Date()
    ) async throws(DatabaseError) -> PromotionRecord? {
        let detail = redact(detail)
        return try await submit { database, statements throws(DatabaseError) in
            let at = Timestamp.iso8601(now)
            try database.prepare(
                """
                UPDATE promotions SET previous_tag = CASE WHEN step = ?1 THEN previous_tag ELSE ?2 END,
                  merge_request = CASE WHEN step = ?1 THEN coalesce(?8, merge_request) ELSE ?8 END,
                  merge_request_url = CASE WHEN step = ?1 THEN coalesce(?9, merge_request_url) ELSE ?9 END,
                  gate = CASE WHEN CAST(?10 AS INTEGER) IS NOT NULL THEN ?10 WHEN step = ?1 THEN gate ELSE 0 END,
                  step = ?1, environment = ?3, state = ?4, detail = ?5, updated_at = ?6 WHERE id = ?7
                """
            ).run([
                .integer(Int64(step)), SQLValue(previousTag), .text(environment), .text(state.rawValue), .text(detail), .text(at),
                .text(id), mergeRequest.map { .integer(Int64($0.number)) } ?? .null, SQLValue(mergeRequest?.url),
                gate.map { .integer(Int64($0)) } ?? .null,
            ])
            try Self.logPromotionStep(database, id: id, at: at, environment: environment, state: state, detail: detail)
            let record = try Self.promotion(id, in: database)
            if let record, PromotionRecord.restartable.contains(state) { try statements.release(record.eventID) }
            return record
        }
    }

    public func promotion(_ id: String) async throws(DatabaseError) -> PromotionRecord? {
        try await submit { database, _ throws(DatabaseError) in
            try Self.promotion(id, in: database)
        }
    }

    /// The newest promotions first; `open` keeps those not done or failed.
    public func promotions(open: Bool = false, limit: Int = 100) async throws(DatabaseError) -> [PromotionRecord] {
        try await submit { database, _ throws(DatabaseError) in
            let filter = open ? "WHERE state NOT IN ('done','failed','superseded','cancelled')" : ""
            return try database.prepare("SELECT \(Self.promotionColumns) FROM promotions \(filter) ORDER BY id DESC LIMIT ?")
                .run([.integer(Int64(max(1, min(limit, 1000))))]).map(Self.promotion)
        }
    }

    /// A promotion's log, oldest first: (time, environment, state, detail).
    public func promotionSteps(_ id: String) async throws(DatabaseError) -> [(at: String, environment: String, state: String, detail: String)]
    {
        try await submit { database, _ throws(DatabaseError) in
            try database.prepare("SELECT at, environment, state, detail FROM promotion_steps WHERE promotion_id = ? ORDER BY rowid")
                .run([.text(id)]).map { ($0[0].text ?? "", $0[1].text ?? "", $0[2].text ?? "", $0[3].text ?? "") }
        }
    }

    static func promotion(_ id: String, in database: any SQLDatabase) throws(DatabaseError) -> PromotionRecord? {
        try database.prepare("SELECT \(promotionColumns) FROM promotions WHERE id = ?").run([.text(id)]).first.map(promotion)
    }

    static func logPromotionStep(
        _ database: any SQLDatabase, id: String, at: String, environment: String, state: PromotionState, detail: String
    )
        throws(DatabaseError)
    {
        try database.prepare("INSERT INTO promotion_steps (promotion_id, at, environment, state, detail) VALUES (?,?,?,?,?)").run([
            .text(id), .text(at), .text(environment), .text(state.rawValue), .text(detail),
        ])
    }

    static func promotion(_ row: [SQLValue]) -> PromotionRecord {
        PromotionRecord(
            id: row[0].text ?? "", chain: row[1].text ?? "", image: row[2].text ?? "", tag: row[3].text ?? "", digest: row[4].text,
            eventID: row[5].text ?? "", step: Int(row[6].integer ?? 0), gate: Int(row[15].integer ?? 0), environment: row[7].text ?? "",
            state: PromotionState(rawValue: row[8].text ?? "") ?? .failed, detail: row[9].text ?? "", createdAt: row[10].text ?? "",
            updatedAt: row[11].text ?? "", previousTag: row[12].text,
            mergeRequest: row[13].integer.map { MergeRequestReference(number: Int($0), url: row[14].text ?? "") })
    }
}

extension JournalSchema {
    /// Promotions, their steps and merge notices. Version 1 is the shape before
    /// `schema_versions` existed (a journal from then is brought to it).
    package static let promotions = JournalSchema(
        feature: "promotions",
        migrations: [
            { database in
                try database.execute(Journal.promotionTables)
                for column in ["previous_tag TEXT", "merge_request INTEGER", "merge_request_url TEXT", "gate INTEGER NOT NULL DEFAULT 0"] {
                    try database.addColumn("promotions", column)
                }
                try database.execute(Journal.mergeNoticeTables)
            },
            { database in try database.execute(Journal.promotionRequestTables) },
        ])
}
