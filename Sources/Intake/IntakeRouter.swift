import CoreMetrics
import Crypto
import Events
import Foundation
import HTTPServer
import ImageReference
import Journal
import Logging
import Promotion
import Workers

/// One configured receiver: where senders post, how they prove who they are, and what the
/// decoder needs to know.
public struct ReceiverSettings: Sendable {
    public let name: String
    public let type: ReceiverType
    public let secret: ReceiverAuthentication.Secret
    public let context: ReceiverContext
    /// For `gcr` receivers of Pub/Sub push subscriptions: the Google-signed OIDC token is checked
    /// instead of a fixed secret.
    public let oidc: JWKS?

    public init(
        name: String, type: ReceiverType, secret: ReceiverAuthentication.Secret, context: ReceiverContext = ReceiverContext(),
        oidc: JWKS? = nil
    ) {
        self.name = name
        self.type = type
        self.secret = secret
        self.context = context
        self.oidc = oidc
    }
}

/// The service's routes. An accepted delivery is journaled (durably) before it is answered
/// `202`, then handed to `accepted` for the workers.
///
/// - `POST /hooks/{receiver}` (`/hooks/{receiver}/{token}` for senders that cannot sign)
/// - `POST /v1/events`: the first `generic` receiver, for CI jobs
/// - `GET /v1/events/{id}`, `GET /v1/events?status=&image=&limit=`
/// - `GET /v1/promotions[?open=true]`, `GET /v1/promotions/{id}`, `POST /v1/promotions/{id}/approve`
/// - `GET /healthz`, `GET /readyz` (journal writable, repositories reachable), `GET /metrics`
public struct IntakeRouter: Sendable {
    let receivers: [String: ReceiverSettings]
    let journal: Journal
    let accepted: @Sendable (String, ImageEvent) -> Void
    /// Why an event is not for the workers (journaled as ignored at once), or nil.
    let ignoreReason: @Sendable (ImageEvent) -> String?
    /// Whether an image is in `images[]`: CI's generic posts for others are refused (422), since
    /// a person meant something else; registries send every push, so theirs are journaled ignored.
    let managed: (@Sendable (ImageName) -> Bool)?
    /// The status page's rows and columns (nil: the images and targets the journal has seen).
    let statusLayout: StatusPage.Layout?
    let logger: Logger
    /// Repeated failed authentications from one address get 429.
    let limiter: AuthenticationLimiter
    let readiness: Readiness
    let metrics: ServiceMetrics
    let promotions: PromotionEngine?
    /// Journals and handles "a merge request of ours was merged or closed".
    let mergeNotices: MergeNoticeHandler?
    private let healthz: Counter
    /// The receiver behind `POST /v1/events`: the first `generic` one by name.
    let genericReceiver: ReceiverSettings?
    /// The admin listener's token: required for approvals and retries (nil: they are refused),
    /// and for reads when `requireTokenForReads`.
    let adminToken: String?
    let requireTokenForReads: Bool
    /// Whether this replica holds the leader lease (several replicas on one journal): only the
    /// holder moves promotions and handles merge notices; the others journal and answer.
    let leading: @Sendable () -> Bool

    /// `readiness` defaults to checking the journal only. An event `ignoreReason` gives a reason
    /// for (no target takes it, an untagged registry push no target may take) is journaled as
    /// ignored at once, with that reason, and not handed to `accepted`.
    public init(
        receivers: [ReceiverSettings], journal: Journal, readiness: Readiness? = nil, metrics: ServiceMetrics = .disabled,
        promotions: PromotionEngine? = nil, mergeNotices: MergeNoticeHandler? = nil,
        ignoreReason: @escaping @Sendable (ImageEvent) -> String? = { _ in nil },
        logger: Logger = Logger(label: "imagebump.intake", factory: { _ in SwiftLogNoOpLogHandler() }), limiter: AuthenticationLimiter = AuthenticationLimiter(),
        adminToken: String? = nil, requireTokenForReads: Bool = false, managed: (@Sendable (ImageName) -> Bool)? = nil,
        statusLayout: StatusPage.Layout? = nil, leading: @escaping @Sendable () -> Bool = { true },
        accepted: @escaping @Sendable (String, ImageEvent) -> Void
    ) {
        self.leading = leading
        self.managed = managed
        self.statusLayout = statusLayout
        self.adminToken = adminToken
        self.requireTokenForReads = requireTokenForReads
        self.limiter = limiter
        self.ignoreReason = ignoreReason
        self.logger = logger
        self.receivers = Dictionary(receivers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        genericReceiver = receivers.sorted(by: { $0.name < $1.name }).first { $0.type == .generic }
        self.journal = journal
        self.readiness = readiness ?? Readiness(journal: journal, targets: [])
        self.metrics = metrics
        self.promotions = promotions
        self.mergeNotices = mergeNotices
        self.accepted = accepted
        healthz = Counter(
            label: "imagebump_http_requests_total", dimensions: [("route", "healthz"), ("status", "200")], factory: metrics.factory)
    }

    /// What the event loop answers by itself, without a task: `GET /healthz`. Nil for the rest.
    public func immediate(_ request: HTTPServerRequest) -> HTTPServerResponse? {
        guard request.method == "GET", request.path == "/healthz" else { return nil }
        healthz.increment()
        return Self.healthy
    }

    static let healthy = HTTPServerResponse.json(200, ["status": "ok"])

    /// Takes deliveries (`POST /hooks/…`, `POST /v1/events`) without a task: `respond` is called
    /// once the journal has the events on disk (on the journal's thread), or at once for a
    /// rejected one. False for every other request, which ``handle(_:)`` answers.
    public func deliver(_ request: HTTPServerRequest, respond: @escaping @Sendable (HTTPServerResponse) -> Void) -> Bool {
        let parts = request.pathSegments
        guard request.method == "POST", let (receiver, token) = deliveryReceiver(parts) else { return false }
        let start = ContinuousClock.now
        receive(request, receiver, pathToken: token) { response in
            measure(parts, response, since: start)
            respond(response)
        }
        return true
    }

    /// The public listener (registries, forges, CI): deliveries, `GET /healthz`, `GET /readyz`.
    /// Everything else answers 404 here: the status API, metrics and operator actions live on
    /// the admin listener only.
    public func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let start = ContinuousClock.now
        let parts = request.pathSegments
        let response: HTTPServerResponse
        switch (parts.first, parts.count) {
        case ("healthz", 1), ("readyz", 1), ("hooks", 2), ("hooks", 3): response = await route(request, parts)
        case ("v1", 2) where parts[1] == "events" && request.method == "POST": response = await route(request, parts)
        case ("v1", 2) where parts[1] == "events":  // reading events is the admin listener's
            var refusal = HTTPServerResponse.error(405, "method not allowed", "use POST here; events are read on the admin listener")
            refusal.headers.append(("Allow", "POST"))
            response = refusal
        default: response = .error(404, "not found", "no route for \(request.method) \(request.path) on this port")
        }
        measure(parts, response, since: start)
        return response
    }

    /// The admin listener: the status API (`GET /v1/events[/ID]`, `/v1/promotions[/ID]`),
    /// `GET /metrics`, health, and the operator actions (`POST …/retry`, `…/approve`), which
    /// take the admin token only. Deliveries are not taken here.
    public func handleAdmin(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let start = ContinuousClock.now
        let parts = request.pathSegments
        let response: HTTPServerResponse
        if case ("hooks", _) = (parts.first, parts.count) {
            response = .error(404, "not found", "deliveries go to the public port")
        } else if parts == ["v1", "events"], request.method == "POST" {
            response = .error(404, "not found", "deliveries go to the public port")
        } else if request.method == "GET", requireTokenForReads, !["healthz", "readyz"].contains(parts.first ?? ""),
            let refusal = refusal(request, doing: "read the status API")
        {
            response = refusal
        } else {
            response = await route(request, parts)
        }
        measure(parts, response, since: start)
        return response
    }

    /// The receiver a delivery path names, and the URL token after it.
    private func deliveryReceiver(_ parts: [String]) -> (ReceiverSettings, String?)? {
        switch (parts.first, parts.count) {
        case ("hooks", 2), ("hooks", 3): receivers[parts[1]].map { ($0, parts.count == 3 ? parts[2] : nil) }
        case ("v1", 2) where parts[1] == "events": genericReceiver.map { ($0, nil) }
        default: nil
        }
    }

    private func measure(_ parts: [String], _ response: HTTPServerResponse, since start: ContinuousClock.Instant) {
        let name =
            switch (parts.first, parts.count) {
            case ("healthz", 1), ("readyz", 1), ("metrics", 1): parts[0]
            case ("hooks", 2), ("hooks", 3): "hooks"
            case ("v1", 2...4) where parts[1] == "events": "events"
            default: "other"
            }
        metrics.count("imagebump_http_requests_total", [("route", name), ("status", "\(response.status)")])
        metrics.time("imagebump_http_request_duration_seconds", [("route", name)], since: start)
    }

    /// Waits for ``receive(_:_:pathToken:respond:)``'s answer.
    private func receive(_ request: HTTPServerRequest, _ receiver: ReceiverSettings, pathToken: String?) async -> HTTPServerResponse {
        await withCheckedContinuation { continuation in
            receive(request, receiver, pathToken: pathToken) { continuation.resume(returning: $0) }
        }
    }

    private func route(_ request: HTTPServerRequest, _ parts: [String]) async -> HTTPServerResponse {
        switch (parts.first, parts.count) {
        case ("healthz", 1):
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return .json(200, ["status": "ok"])
        case ("readyz", 1):
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            let report = await readiness.report()
            return .json(report.ready ? 200 : 503, ["status": report.ready ? "ready" : "not ready", "checks": report.checks])
        case ("metrics", 1):
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return HTTPServerResponse(
                status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.exposition())
        case ("hooks", 2), ("hooks", 3):
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            guard let receiver = receivers[parts[1]] else {
                return .error(404, "unknown receiver", "no receiver is named \(parts[1]); see receivers in the configuration")
            }
            return await receive(request, receiver, pathToken: parts.count == 3 ? parts[2] : nil)
        case ("v1", 2) where parts[1] == "events":
            if request.method == "GET" { return await list(request) }
            guard request.method == "POST" else { return Self.methodNotAllowed("GET, POST") }
            guard let receiver = genericReceiver else {
                return .error(404, "no generic receiver", "configure a receiver of type generic to accept POST /v1/events")
            }
            return await receive(request, receiver, pathToken: nil)
        case ("v1", 3) where parts[1] == "events":
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return await show(parts[2])
        case ("v1", 4) where parts[1] == "events" && parts[3] == "retry":
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            return await retry(parts[2], request)
        case ("v1", 2) where parts[1] == "promotions":
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            let open = Self.queryItems(request)["open"]
            guard open == nil || open == "true" || open == "false" else {
                return .error(400, "bad open", "open must be true or false")
            }
            return await listPromotions(open: open == "true")
        case ("v1", 3) where parts[1] == "promotions":
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return await showPromotion(parts[2])
        case ("v1", 4) where parts[1] == "promotions" && (parts[3] == "retry" || parts[3] == "cancel"):
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            return await operate(parts[3], parts[2], request)
        case (nil, 0):
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return await statusPage(request)
        case ("ui", 3) where parts[1] == "events":
            guard request.method == "GET" else { return Self.methodNotAllowed("GET") }
            return await eventPage(parts[2])
        case ("ui", 4) where parts[1] == "events" && parts[3] == "retry", ("ui", 4) where parts[1] == "promotions" && parts[3] == "approve":
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            return await pageAction(parts[1], parts[2], request)
        case ("v1", 3) where parts[1] == "journal" && parts[2] == "backup":
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            return await backup(request)
        case ("v1", 4) where parts[1] == "promotions" && parts[3] == "approve":
            guard request.method == "POST" else { return Self.methodNotAllowed("POST") }
            return await approve(parts[2], request)
        default:
            return .error(404, "not found", "no route for \(request.method) \(request.path)")
        }
    }

    /// 429 for an address that failed to authenticate too often: when to come back.
    static func tooManyFailures(_ seconds: Int) -> HTTPServerResponse {
        var response = HTTPServerResponse.error(
            429, "too many failed authentications", "this address failed to authenticate too often; retry after \(seconds) s")
        response.headers.append(("Retry-After", "\(seconds)"))
        return response
    }

    /// 503 for a journal failure: the details (SQLite's message) go to the log, not to whoever asked.
    func journalUnavailable(_ error: DatabaseError) -> HTTPServerResponse {
        logger.error("the journal cannot answer", metadata: ["error": "\(error)"])
        return .error(503, "journal unavailable", "the journal cannot be read or written right now; try again shortly")
    }

    static func methodNotAllowed(_ allowed: String) -> HTTPServerResponse {
        var response = HTTPServerResponse.error(405, "method not allowed", "use \(allowed)")
        response.headers.append(("Allow", allowed))
        return response
    }

    /// Authenticates, decodes and journals a delivery; answers 202 once every event is durable
    /// (then hands the new, routed ones to the workers, in arrival order), 200 for ignored
    /// deliveries, 401/400 for rejected ones and 503 when the journal cannot write.
    private func receive(
        _ request: HTTPServerRequest, _ receiver: ReceiverSettings, pathToken: String?,
        respond: @escaping @Sendable (HTTPServerResponse) -> Void
    ) {
        if let wait = limiter.retryAfter(request.remoteAddress) {
            metrics.count("imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", "limited")])
            return respond(Self.tooManyFailures(wait))
        }
        let headers = Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        let authenticated: Bool
        if let oidc = receiver.oidc {
            switch oidc.verify(authorization: headers["authorization"]) {
            case .success: authenticated = true
            case .failure(let failure):
                logger.info("delivery refused", metadata: ["receiver": "\(receiver.name)", "reason": "\(failure)"])
                authenticated = false
            }
        } else {
            authenticated = ReceiverAuthentication.verify(
                receiver.type, secret: receiver.secret, headers: headers, body: request.body, pathToken: pathToken,
                method: request.method, path: request.path)
        }
        guard authenticated else {
            limiter.failed(request.remoteAddress)
            metrics.count("imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", "unauthorized")])
            return respond(.error(401, "unauthorized", "the delivery's token or signature does not match receiver \(receiver.name)"))
        }
        let decoded: DecodedDelivery
        do { decoded = try DeliveryDecoder.decode(receiver.type, headers: headers, body: request.body, context: receiver.context) } catch {
            metrics.count("imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", "undecodable")])
            return respond(.error(400, "undecodable payload", error.reason))
        }
        let events: [ImageEvent]
        switch decoded {
        case .accepted(let accepted):
            events = accepted
        case .ignored(let reason):
            metrics.count("imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", "ignored")])
            return respond(.json(200, ["ignored": reason]))
        case .merged(let notice):
            metrics.count("imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", notice.merged ? "merged" : "closed")])
            return receive(notice, from: receiver.name, respond: respond)
        }
        if receiver.type == .generic, let managed, let image = events.lazy.compactMap(\.image).first(where: { !managed($0) }) {
            metrics.count("imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", "unmanaged")])
            return respond(
                .error(422, "image not managed", "\(image) is not in images[] of the configuration; check the name, or add it there"))
        }
        let reasons = events.map(ignoreReason)
        let routed = reasons.map { $0 == nil }
        let items = zip(events, reasons).map { event, reason in (event: event, ignoredBecause: reason) }
        let (metrics, accepted, logger) = (self.metrics, self.accepted, self.logger)
        journal.record(items) { result in
            let recorded: [(id: String, duplicate: Bool)]
            switch result {
            case .success(let value): recorded = value
            case .failure(let error):
                logger.error("the journal cannot store a delivery", metadata: ["error": "\(error)"])
                return respond(.error(503, "journal unavailable", "the event could not be stored durably; the sender should retry"))
            }
            // {"events":[{"duplicate":…,"id":…,"image":…,"status":…}]}, written directly: the hot path.
            var body = [UInt8]()
            body.reserveCapacity(32 + 160 * recorded.count)
            body.append(contentsOf: #"{"events":["#.utf8)
            for (index, ((event, routed), (id, duplicate))) in zip(zip(events, routed), recorded).enumerated() {
                if !routed, !duplicate { metrics.count("imagebump_events_finished_total", [("status", "ignored")]) }
                metrics.count(
                    "imagebump_deliveries_total", [("receiver", receiver.name), ("outcome", duplicate ? "duplicate" : "accepted")])
                // Durable already: the workers take it from here (after a crash, recovery does),
                // queued before the answer so that events keep the order they arrived in.
                if !duplicate, routed { accepted(id, event) }
                var metadata: Logger.Metadata = ["event.id": "\(id)", "image": "\(event)", "receiver": "\(receiver.name)"]
                if let reason = reasons[index], !duplicate { metadata["reason"] = "\(reason)" }
                logger.info(duplicate ? "delivery repeats an event" : routed ? "event accepted" : "event ignored", metadata: metadata)
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: (duplicate ? #"{"duplicate":true,"id":"# : #"{"duplicate":false,"id":"#).utf8)
                JSONText.string(id, into: &body)
                body.append(contentsOf: #","image":"#.utf8)
                JSONText.string(event.description, into: &body)
                body.append(contentsOf: #","status":"/v1/events/"#.utf8)
                body.append(contentsOf: id.utf8)  // an id is hex digits and dashes: nothing to escape
                body.append(contentsOf: #""}"#.utf8)
            }
            body.append(contentsOf: "]}".utf8)
            respond(HTTPServerResponse(status: 202, headers: [("Content-Type", "application/json")], body: body))
        }
    }

    /// Operator actions (retry, approve) carry the admin token (`Authorization: Bearer …`), never
    /// a receiver's credentials: a captured delivery cannot be replayed as an approval. Nil when
    /// the token is right, else the answer that refuses.
    func refusal(_ request: HTTPServerRequest, doing action: String, presented form: String? = nil) -> HTTPServerResponse? {
        guard let adminToken else {
            return .error(403, "no admin token", "set server.admin.token to \(action)")
        }
        if let wait = limiter.retryAfter(request.remoteAddress) { return Self.tooManyFailures(wait) }
        let presented = form ?? request.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        guard HMAC.constantTimeEqual(presented, adminToken) else {
            limiter.failed(request.remoteAddress)
            return .error(401, "unauthorized", "to \(action), send the admin token (server.admin.token) as Authorization: Bearer")
        }
        return nil
    }
}
