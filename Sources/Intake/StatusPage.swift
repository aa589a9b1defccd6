import Foundation
import Journal
import Promotion
import Workers

/// The admin listener's status page: server-rendered HTML, no script, no external asset. What
/// runs where (one row per image, one column per target), what is on its way (promotions in
/// flight and their gates), failed events with Retry, manual gates with Approve (both forms ask
/// for the admin token; it travels in the POST body, never in a URL), and the recent events.
public struct StatusPage: Sendable {
    /// The configured images and targets, in the configuration's order: the matrix's rows and columns.
    public struct Layout: Sendable {
        public let images: [(image: String, targets: [String])]
        public let targets: [String]

        public init(images: [(image: String, targets: [String])], targets: [String]) {
            self.images = images
            self.targets = targets
        }
    }

    /// What one page shows.
    struct Content {
        var cells: [Journal.MatrixCell] = []
        var inFlight: [PromotionRecord] = []
        var gates: [String: String] = [:]
        var failed: [JournalEvent] = []
        var recent: [JournalEvent] = []
        var status: String?
        var image: String?
        var refresh: Int?
        var notice: String?
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1f23;background:#fff}
        h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
        table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
        th{background:#f6f8fa}.tag{font-weight:600;font-family:ui-monospace,monospace}.muted{color:#57606a;font-size:.85em}
        .flight{margin-top:.3rem;padding:.2rem .35rem;background:#fff8c5;border-radius:4px}.failed{color:#cf222e;font-weight:600}
        .done{color:#1a7f37}.notice{padding:.5rem;background:#ddf4ff;border:1px solid #54aeff;border-radius:4px}
        form.inline{display:flex;gap:.3rem;align-items:center}input[type=password]{width:11rem}code{font-family:ui-monospace,monospace}
        """

    static func document(_ title: String, refresh: Int? = nil, _ body: String) -> String {
        let meta = refresh.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? ""
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">\(meta)
            <title>\(escape(title))</title><style>\(style)</style></head><body>\(body)</body></html>
            """
    }

    /// A form that asks for the admin token and posts it (with nothing else secret) to `action`.
    static func tokenForm(_ action: String, _ button: String, id: String) -> String {
        """
        <form class="inline" method="post" action="\(escape(action))"><label>admin token <input type="password" name="token" \
        autocomplete="current-password" required></label><button type="submit" id="\(escape(id))">\(escape(button))</button></form>
        """
    }

    static func eventLink(_ id: String) -> String { "<a href=\"/ui/events/\(escape(id))\"><code>\(escape(id))</code></a>" }

    static func link(_ url: String?, _ text: String) -> String {
        guard let url else { return "—" }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else { return escape(url) }
        return "<a href=\"\(escape(url))\">\(escape(text))</a>"
    }

    /// The whole page.
    static func render(_ layout: Layout, _ content: Content, now: Date = Date()) -> String {
        var html = "<h1>imagebump</h1><p class=\"muted\">as of \(escape(ISO8601DateFormatter().string(from: now)))"
        html += content.refresh == nil ? " · <a href=\"/?refresh=30\">refresh every 30 s</a>" : " · refreshing every \(content.refresh ?? 0) s"
        html += "</p>"
        if let notice = content.notice { html += "<p class=\"notice\" id=\"notice\">\(escape(notice))</p>" }
        html += matrix(layout, content)
        html += gates(content)
        html += failed(content)
        html += recent(layout, content)
        return document("imagebump status", refresh: content.refresh, html)
    }

    static func matrix(_ layout: Layout, _ content: Content) -> String {
        var html = "<h2>Environments</h2><table id=\"matrix\"><tr><th>image</th>"
        for target in layout.targets { html += "<th>\(escape(target))</th>" }
        html += "</tr>"
        for (image, targets) in layout.images {
            html += "<tr data-image=\"\(escape(image))\"><th>\(escape(image))</th>"
            for target in layout.targets {
                guard targets.contains(target) else {
                    html += "<td class=\"muted\">—</td>"
                    continue
                }
                html += "<td data-target=\"\(escape(target))\">"
                if let cell = content.cells.first(where: { $0.deployment.image == image && $0.deployment.target == target }) {
                    html += "<span class=\"tag\">\(escape(cell.deployment.tag))</span>"
                    if let digest = cell.digest { html += " <span class=\"muted\">\(escape(String(digest.prefix(19))))…</span>" }
                    html += "<br><span class=\"muted\">since \(escape(cell.deployment.since)) · \(escape(cell.deployment.via))"
                    if let event = cell.eventID {
                        // A promotion's write is named by the promotion, not by an event of its own.
                        html += event.hasPrefix("promotion-") ? " · by the promotion" : " · event \(eventLink(event))"
                    }
                    html += "</span>"
                } else {
                    html += "<span class=\"muted\">not written yet</span>"
                }
                for flight in content.inFlight where flight.image == image && flight.environment == target {
                    html += "<div class=\"flight\">← <span class=\"tag\">\(escape(flight.tag))</span> \(escape(flight.state.rawValue))"
                    if let gate = content.gates[flight.id], gate != "none" { html += " (gate \(escape(gate)))" }
                    if let request = flight.mergeRequest { html += " · " + link(request.url, "merge request #\(request.number)") }
                    html += "<br><span class=\"muted\">since \(escape(flight.updatedAt))</span></div>"
                }
                html += "</td>"
            }
            html += "</tr>"
        }
        return html + "</table>"
    }

    static func gates(_ content: Content) -> String {
        let waiting = content.inFlight.filter { $0.state == .waitingForApproval }
        var html = "<h2>Waiting for approval</h2>"
        guard !waiting.isEmpty else { return html + "<p class=\"muted\">No promotion waits for a manual approval.</p>" }
        html += "<table id=\"approvals\"><tr><th>promotion</th><th>image</th><th>waiting in</th><th>since</th><th></th></tr>"
        for record in waiting {
            html += "<tr data-promotion=\"\(escape(record.id))\"><td><code>\(escape(record.id))</code> (\(escape(record.chain)))</td>"
            html += "<td>\(escape(record.image)):<span class=\"tag\">\(escape(record.tag))</span></td><td>\(escape(record.environment))</td>"
            html += "<td>\(escape(record.updatedAt))</td><td>\(tokenForm("/ui/promotions/\(record.id)/approve", "Approve", id: "approve-\(record.id)"))</td></tr>"
        }
        return html + "</table>"
    }

    static func failed(_ content: Content) -> String {
        var html = "<h2>Failed events</h2>"
        guard !content.failed.isEmpty else { return html + "<p class=\"muted\">No event failed.</p>" }
        html += "<table id=\"failed\"><tr><th>event</th><th>image</th><th>error</th><th>attempts</th><th></th></tr>"
        for event in content.failed {
            let reference = "\(event.registry)/\(event.repository)" + (event.tag.map { ":\($0)" } ?? "")
            html += "<tr data-event=\"\(escape(event.id))\"><td>\(eventLink(event.id))</td><td>\(escape(reference))</td>"
            html += "<td>\(escape(event.lastError ?? ""))</td><td>\(event.attempts)</td>"
            html += "<td>\(tokenForm("/ui/events/\(event.id)/retry", "Retry", id: "retry-\(event.id)"))</td></tr>"
        }
        return html + "</table>"
    }

    static func recent(_ layout: Layout, _ content: Content) -> String {
        var html = "<h2>Recent events</h2><form method=\"get\" action=\"/\" class=\"inline\"><label>status <select name=\"status\">"
        html += "<option value=\"\">any</option>"
        for status in EventStatus.allCases {
            html += "<option\(content.status == status.rawValue ? " selected" : "")>\(status.rawValue)</option>"
        }
        html += "</select></label><label>image <select name=\"image\"><option value=\"\">any</option>"
        for (image, _) in layout.images { html += "<option\(content.image == image ? " selected" : "")>\(escape(image))</option>" }
        html += "</select></label><button type=\"submit\">Filter</button></form>"
        html += "<table id=\"events\"><tr><th>event</th><th>received</th><th>image</th><th>source</th><th>status</th><th>commit</th><th>merge request</th></tr>"
        for event in content.recent {
            let reference = "\(event.registry)/\(event.repository)" + (event.tag.map { ":\($0)" } ?? "")
            let state = event.status == .failed ? "failed" : event.status == .done ? "done" : ""
            html += "<tr data-event=\"\(escape(event.id))\"><td>\(eventLink(event.id))</td><td>\(escape(event.receivedAt))</td>"
            html += "<td>\(escape(reference))</td><td>\(escape(event.source))</td><td class=\"\(state)\">\(escape(event.status.rawValue))</td>"
            html += "<td><code>\(escape(String((event.commit ?? "").prefix(12))))</code></td><td>\(link(event.mergeRequestURL, "open"))</td></tr>"
        }
        if content.recent.isEmpty { html += "<tr><td colspan=\"7\" class=\"muted\">No event yet.</td></tr>" }
        return html + "</table>"
    }

    /// One event with every step.
    static func render(event: JournalEvent, steps: [(String, String, String)]) -> String {
        let reference = "\(event.registry)/\(event.repository)" + (event.tag.map { ":\($0)" } ?? "")
        var html = "<p><a href=\"/\">← status</a></p><h1>Event <code>\(escape(event.id))</code></h1><table id=\"event\">"
        let rows: [(String, String)] = [
            ("image", escape(reference)), ("digest", escape(event.digest ?? "—")), ("status", escape(event.status.rawValue)),
            ("received", escape(event.receivedAt)), ("source", escape(event.source)), ("attempts", "\(event.attempts)"),
            ("last error", escape(event.lastError ?? "—")), ("commit", "<code>\(escape(event.commit ?? "—"))</code>"),
            ("merge request", link(event.mergeRequestURL, event.mergeRequestURL ?? "—")),
        ]
        for (name, value) in rows { html += "<tr><th>\(name)</th><td>\(value)</td></tr>" }
        html += "</table><h2>Steps</h2><table id=\"steps\"><tr><th>at</th><th>step</th><th>detail</th></tr>"
        html += "<tr><td>\(escape(event.receivedAt))</td><td>received</td><td>from \(escape(event.source))</td></tr>"
        for (at, step, detail) in steps { html += "<tr><td>\(escape(at))</td><td>\(escape(step))</td><td>\(escape(detail))</td></tr>" }
        html += "</table>"
        if event.status == .failed || event.status == .ignored {
            html += "<h2>Run it again</h2>" + tokenForm("/ui/events/\(event.id)/retry", "Retry", id: "retry-\(event.id)")
        }
        return document("imagebump event \(event.id)", html)
    }
}
