import Workers
import Promotion
import Logging
import Events
import Foundation
import HTTPServer
import Journal

/// The promotion routes, and merge notices (which move promotions on).
extension IntakeRouter {
    /// `GET /v1/promotions[?open=true]`: per image, what each environment runs now and the
    /// promotions in flight (gate, merge request, age); then the promotions, newest first.
    func listPromotions(open: Bool) async -> HTTPServerResponse {
        do {
            let now = Date()
            let images = try await promotions?.overview() ?? []
            return .json(
                200,
                [
                    "images": images.map { view in
                        [
                            "image": view.image, "chain": view.chain,
                            "environments": view.environments.map { environment in
                                [
                                    "name": environment.name, "runs": environment.running?.tag ?? NSNull(),
                                    "since": environment.running?.since ?? NSNull(), "via": environment.running?.via ?? NSNull(),
                                ] as [String: Any]
                            },
                            "inFlight": view.inFlight.map { flight in
                                var object = Self.render(flight.record)
                                object["gate"] = flight.gate
                                object["ageSeconds"] = Self.seconds(since: flight.record.createdAt, now: now)
                                object["waitingSeconds"] = Self.seconds(since: flight.record.updatedAt, now: now)
                                return object
                            },
                        ] as [String: Any]
                    },
                    "promotions": try await journal.promotions(open: open).map(Self.render),
                ])
        } catch {
            return journalUnavailable(error)
        }
    }

    /// Whole seconds from a journal timestamp (`2026-11-23T08:50:18Z`) to `now`; 0 when unreadable.
    static func seconds(since timestamp: String, now: Date) -> Int {
        guard let date = ISO8601DateFormatter().date(from: timestamp) else { return 0 }
        return max(0, Int(now.timeIntervalSince(date)))
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
        return await approve(id)
    }

    /// Approves a promotion; the caller checked the admin token.
    func approve(_ id: String) async -> HTTPServerResponse {
        guard let promotions else { return .error(404, "no promotions", "no promotion chain is configured; see promotions[]") }
        if !leading() { return await handOver(.approve, id) }
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
        if !leading() { return await handOver(action == "retry" ? .retry : .cancel, id) }
        do {
            let record = action == "retry" ? try await promotions.retry(id) : try await promotions.cancel(id)
            return .json(200, Self.render(record))
        } catch {
            return .error(error.status, error.status == 404 ? "unknown promotion" : "cannot \(action)", error.detail)
        }
    }

    /// On a replica that does not hold the leader lease (promotions move on the holder only):
    /// the operation is journaled for the holder, which carries it out within a moment — `202`
    /// with the request's id; an unknown promotion is `404`, one in another state `409`, as on
    /// the holder.
    func handOver(_ action: PromotionRequest.Action, _ id: String) async -> HTTPServerResponse {
        do {
            guard let record = try await journal.promotion(id) else { return .error(404, "unknown promotion", "no promotion has the id \(id)") }
            let expected: Set<PromotionState> =
                switch action {
                case .approve: [.waitingForApproval]
                case .retry: [.failed]
                case .cancel: Set(PromotionState.allCases).subtracting([.done, .failed, .superseded, .cancelled])
                }
            guard expected.contains(record.state) else {
                return .error(409, "cannot \(action.rawValue)", "promotion \(id) is \(record.state.rawValue)")
            }
            let request = try await journal.requestPromotion(action, id)
            logger.info("promotion operation handed to the lease holder", metadata: ["promotion": "\(id)", "action": "\(action.rawValue)", "request": "\(request)"])
            return .json(
                202,
                [
                    "request": request, "promotion": id, "action": action.rawValue,
                    "detail": "this replica does not hold the leader lease; the one that does carries it out (GET /v1/promotions/\(id) shows it)",
                ])
        } catch {
            return journalUnavailable(error)
        }
    }

    /// A merge request of ours was merged or closed: journaled, then answered `202` (with the
    /// notice's id), then handed to the promotions' ``MergeNoticeHandler`` (promotions waiting
    /// for it move on or stop, its update branch goes). 503 when the journal cannot write (the
    /// forge redelivers).
    func receive(_ notice: MergeNotice, from receiver: String, respond: @escaping @Sendable (HTTPServerResponse) -> Void) {
        guard let mergeNotices else {
            return respond(.json(200, ["ignored": "merge notices are not handled by this service"]))
        }
        Task {
            let recorded: (id: String, pending: Bool)
            do throws(DatabaseError) { recorded = try await mergeNotices.record(notice, source: receiver) } catch {
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
            // Elsewhere than on the lease holder, the holder takes the journaled notice up.
            if recorded.pending, leading() { mergeNotices.submit(recorded.id, notice) }
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
