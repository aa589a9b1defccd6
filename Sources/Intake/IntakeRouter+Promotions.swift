import Events
import Foundation
import HTTPServer
import Journal

/// The promotion routes, and merge notices (which move promotions on).
extension IntakeRouter {
    /// `GET /v1/promotions[?open=true]`, newest first.
    func listPromotions(open: Bool) async -> HTTPServerResponse {
        do {
            return .json(200, ["promotions": try await journal.promotions(open: open).map(Self.render)])
        } catch {
            return journalUnavailable(error)
        }
    }

    /// `GET /v1/promotions/{id}`: the promotion and its log.
    func showPromotion(_ id: String) async -> HTTPServerResponse {
        do {
            guard let record = try await journal.promotion(id) else {
                return .error(404, "unknown promotion", "no promotion has the id \(id)")
            }
            var object = Self.render(record)
            object["steps"] = try await journal.promotionSteps(id).map {
                ["at": $0.at, "environment": $0.environment, "state": $0.state, "detail": $0.detail]
            }
            return .json(200, object)
        } catch {
            return journalUnavailable(error)
        }
    }

    /// Approves a promotion waiting in an environment with a manual gate; authenticated like
    /// `POST /v1/events`.
    func approve(_ id: String, _ request: HTTPServerRequest) async -> HTTPServerResponse {
        if let refusal = refusal(request, doing: "approve promotions") { return refusal }
        guard let promotions else { return .error(404, "no promotions", "no promotion chain is configured; see promotions[]") }
        do {
            return .json(200, Self.render(try await promotions.approve(id)))
        } catch {
            return .error(error.status, error.status == 404 ? "unknown promotion" : "not approvable", error.detail)
        }
    }

    /// `POST /v1/promotions/ID/retry|cancel`, with the admin token.
    func operate(_ action: String, _ id: String, _ request: HTTPServerRequest) async -> HTTPServerResponse {
        if let refusal = refusal(request, doing: "\(action) promotions") { return refusal }
        guard let promotions else { return .error(404, "no promotions", "no promotion chain is configured; see promotions[]") }
        do {
            let record = action == "retry" ? try await promotions.retry(id) : try await promotions.cancel(id)
            return .json(200, Self.render(record))
        } catch {
            return .error(error.status, error.status == 404 ? "unknown promotion" : "cannot \(action)", error.detail)
        }
    }

    /// A merge request of ours was merged or closed: journaled, then answered `202` (with the
    /// notice's id), then handled — promotions waiting for it move on or stop, its update branch
    /// goes. 503 when the journal cannot write (the forge redelivers).
    func receive(_ notice: MergeNotice, from receiver: String, respond: @escaping @Sendable (HTTPServerResponse) -> Void) {
        guard let mergeNotices else {
            return respond(.json(200, ["ignored": "merge notices are not handled by this service"]))
        }
        Task {
            let recorded: (id: String, pending: Bool)
            do throws(SQLiteError) { recorded = try await mergeNotices.record(notice, source: receiver) } catch {
                logger.error("the journal cannot store a merge notice", metadata: ["error": "\(error)"])
                return respond(.error(503, "journal unavailable", "the merge notice could not be stored durably; the sender should retry"))
            }
            respond(
                .json(
                    202,
                    [
                        "id": recorded.id, notice.merged ? "merged" : "closed": "#\(notice.number) (\(notice.target), \(notice.image))",
                        "branch": notice.branch,
                    ]))
            if recorded.pending { await mergeNotices.handle(recorded.id, notice) }
        }
    }

    static func render(_ record: PromotionRecord) -> [String: Any] {
        [
            "mergeRequest": record.mergeRequest.map { ["number": $0.number, "url": $0.url] as [String: Any] } ?? NSNull(),
            "id": record.id, "chain": record.chain, "image": record.image, "tag": record.tag, "digest": record.digest ?? NSNull(),
            "event": record.eventID, "environment": record.environment, "step": record.step, "state": record.state.rawValue,
            "detail": record.detail, "createdAt": record.createdAt, "updatedAt": record.updatedAt,
        ]
    }
}
