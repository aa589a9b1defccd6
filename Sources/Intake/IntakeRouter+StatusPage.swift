import Foundation
import HTTPClient
import HTTPServer
import Journal
import Logging
import Promotion
import Workers

/// The status page's routes (admin listener): `GET /`, `GET /ui/events/ID`, and the forms'
/// `POST /ui/events/ID/retry` and `POST /ui/promotions/ID/approve`.
extension IntakeRouter {
    static func html(_ status: Int, _ text: String) -> HTTPServerResponse {
        HTTPServerResponse(
            status: status,
            headers: [
                ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                // Nothing but itself: no script, no frame, forms post to this origin only.
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ],
            body: Array(text.utf8))
    }

    static func queryItems(_ request: HTTPServerRequest) -> [String: String] {
        var items: [String: String] = [:]
        for item in URLComponents(string: "http://x\(request.target)")?.queryItems ?? [] { items[item.name] = item.value ?? "" }
        return items
    }

    func statusPage(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let query = Self.queryItems(request)
        var content = StatusPage.Content()
        content.status = query["status"].flatMap { EventStatus(rawValue: $0) }?.rawValue
        content.image = query["image"].flatMap { $0.isEmpty ? nil : $0 }
        if let refresh = query["refresh"] {
            guard let seconds = Int(refresh), (5...3600).contains(seconds) else {
                return .error(400, "bad refresh", "refresh must be a number of seconds from 5 to 3600")
            }
            content.refresh = seconds
        }
        content.notice = query["done"].flatMap(Self.notice)
        do {
            content.cells = try await journal.matrix()
            if let promotions {
                for view in try await promotions.overview() {
                    for flight in view.inFlight {
                        content.inFlight.append(flight.record)
                        content.gates[flight.record.id] = flight.gate
                    }
                }
            }
            content.failed = try await journal.list(status: .failed, limit: 20)
            content.recent = try await journal.list(status: content.status.flatMap(EventStatus.init), image: content.image, limit: 50)
        } catch {
            return journalUnavailable(error)
        }
        let layout = statusLayout ?? Self.layout(seen: content.cells)
        return Self.html(200, StatusPage.render(layout, content))
    }

    /// Rows and columns from what the journal has seen, when the configuration's are not given.
    static func layout(seen cells: [Journal.MatrixCell]) -> StatusPage.Layout {
        var targets: [String] = []
        var images: [(image: String, targets: [String])] = []
        for cell in cells {
            if !targets.contains(cell.deployment.target) { targets.append(cell.deployment.target) }
            if let index = images.firstIndex(where: { $0.image == cell.deployment.image }) {
                images[index].targets.append(cell.deployment.target)
            } else {
                images.append((cell.deployment.image, [cell.deployment.target]))
            }
        }
        return StatusPage.Layout(images: images, targets: targets)
    }

    /// What a finished form action says on the page it returns to (`done=retried:ID`), built
    /// here from a known verb and an id of hex digits and dashes: nothing from the URL is shown as is.
    static func notice(_ done: String) -> String? {
        let parts = done.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1].allSatisfy({ $0.isHexDigit || $0 == "-" }), !parts[1].isEmpty else { return nil }
        switch parts[0] {
        case "retried": return "Event \(parts[1]) runs again."
        case "approved": return "Promotion \(parts[1]) is approved and moves on."
        case "handed": return "Promotion \(parts[1]): the approval was handed to the replica that moves promotions; it moves on in a moment."
        default: return nil
        }
    }

    func eventPage(_ id: String) async -> HTTPServerResponse {
        do {
            guard let event = try await journal.event(id) else {
                return Self.html(404, StatusPage.document("unknown event", "<p><a href=\"/\">← status</a></p><p>No event has the id \(StatusPage.escape(id)).</p>"))
            }
            return Self.html(200, StatusPage.render(event: event, steps: try await journal.steps(id)))
        } catch {
            return journalUnavailable(error)
        }
    }

    /// A form's Retry or Approve: the admin token from the POST body (checked like the API's
    /// bearer token, with the same failure limit); refused when the browser says the form came
    /// from another site. Success goes back to the page (303), a refusal is a page that says why.
    func pageAction(_ kind: String, _ id: String, _ request: HTTPServerRequest) async -> HTTPServerResponse {
        func page(_ status: Int, _ message: String) -> HTTPServerResponse {
            Self.html(status, StatusPage.document("imagebump", "<p><a href=\"/\">← status</a></p><p id=\"refusal\">\(StatusPage.escape(message))</p>"))
        }
        let crossSite = request.header("sec-fetch-site").map { $0 == "cross-site" || $0 == "same-site" } == true
        let foreignOrigin = request.header("origin").map { $0 != "null" && MeasuringTransport.host($0) != request.header("host") } == true
        if crossSite || foreignOrigin { return page(403, "This form must be sent from imagebump's own status page.") }
        let form = URLComponents(string: "http://x/?" + String(decoding: request.body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20"))?
            .queryItems ?? []
        let token = form.first { $0.name == "token" }?.value ?? ""
        let action = kind == "events" ? "retry events" : "approve promotions"
        if let refusal = refusal(request, doing: action, presented: token) {
            let detail = (try? JSONSerialization.jsonObject(with: Data(refusal.body)) as? [String: Any])?["detail"] as? String
            return page(refusal.status, detail ?? "refused")
        }
        let response = kind == "events" ? await retry(id) : await approve(id)
        guard (200..<300).contains(response.status) else {
            let detail = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["detail"] as? String
            return page(response.status, detail ?? "refused (\(response.status))")
        }
        logger.info(kind == "events" ? "event retried from the status page" : "promotion approved from the status page", metadata: ["id": "\(id)"])
        let done = kind == "events" ? "retried" : response.status == 202 ? "handed" : "approved"
        return HTTPServerResponse(status: 303, headers: [("Location", "/?done=\(done):\(id)")], body: [])
    }
}
