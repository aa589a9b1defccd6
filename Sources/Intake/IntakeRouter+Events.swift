import Foundation
import HTTPServer
import Journal
import Logging

/// The status API's event routes (admin listener): list, show, retry.
extension IntakeRouter {
    /// Runs a failed (or ignored) event again; with the admin token.
    func retry(_ id: String, _ request: HTTPServerRequest) async -> HTTPServerResponse {
        if let refusal = refusal(request, doing: "retry events") { return refusal }
        return await retry(id)
    }

    /// Runs a failed (or ignored) event again; the caller checked the admin token.
    func retry(_ id: String) async -> HTTPServerResponse {
        do {
            guard let event = try await journal.event(id) else { return .error(404, "unknown event", "no event has the id \(id)") }
            guard [.failed, .ignored].contains(event.status) else {
                return .error(409, "not retryable", "event \(id) is \(event.status.rawValue); only failed or ignored events are retried")
            }
            try await journal.update(id, status: .received, detail: "retry requested")
            accepted(id, event.imageEvent)
            return .json(202, ["id": id, "status": "/v1/events/\(id)"])
        } catch {
            return journalUnavailable(error)
        }
    }

    /// Backs the journal up to a file on the server's disk (`{"path": "/abs/new-file"}`), with
    /// the admin token: a consistent copy while serving. Never overwrites a file.
    func backup(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        if let refusal = refusal(request, doing: "back up the journal") { return refusal }
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], let path = object["path"] as? String
        else {
            return .error(400, "bad request", #"send {"path": "/absolute/path/of/a/new/file"}"#)
        }
        if let problem = Journal.backupProblem(path) { return .error(400, "bad path", problem) }
        do {
            let pages = try await journal.backup(to: path)
            logger.info("journal backed up", metadata: ["path": "\(path)", "pages": .stringConvertible(pages)])
            return .json(200, ["path": path, "pages": pages])
        } catch {
            logger.error("journal backup failed", metadata: ["error": "\(error)"])
            return .error(500, "backup failed", error.message)
        }
    }

    func show(_ id: String) async -> HTTPServerResponse {
        do {
            guard let event = try await journal.event(id) else { return .error(404, "unknown event", "no event has the id \(id)") }
            var object = Self.render(event)
            object["steps"] = try await journal.steps(id).map { ["at": $0.0, "step": $0.1, "detail": $0.2] }
            return .json(200, object)
        } catch {
            return journalUnavailable(error)
        }
    }

    func list(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let query = URLComponents(string: "http://x\(request.target)")?.queryItems ?? []
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        var status: EventStatus?
        if let text = value("status") {
            guard let parsed = EventStatus(rawValue: text) else {
                return .error(400, "bad status", "status must be one of \(EventStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        var limit = 50
        if let text = value("limit") {
            guard let parsed = Int(text), (1...1000).contains(parsed) else {
                return .error(400, "bad limit", "limit must be a whole number from 1 to 1000")
            }
            limit = parsed
        }
        do {
            let events = try await journal.list(status: status, image: value("image"), limit: limit)
            return .json(200, ["events": events.map(Self.render)])
        } catch {
            return journalUnavailable(error)
        }
    }

    static func render(_ event: JournalEvent) -> [String: Any] {
        [
            "id": event.id, "receivedAt": event.receivedAt, "source": event.source, "image": "\(event.registry)/\(event.repository)",
            "tag": event.tag ?? NSNull(), "digest": event.digest ?? NSNull(), "status": event.status.rawValue, "attempts": event.attempts,
            "lastError": event.lastError ?? NSNull(), "commit": event.commit ?? NSNull(), "mergeRequest": event.mergeRequestURL ?? NSNull(),
        ]
    }
}
