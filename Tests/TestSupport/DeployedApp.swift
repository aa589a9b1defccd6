import Synchronization

/// An environment's app for smoke-check tests: `GET /version` answers the tag it runs (with a
/// nested `build` object), `GET /` an HTML page naming it, anything else 404. The test moves it
/// to another tag with ``roll(to:)``, as a rollout would.
public final class DeployedApp: Sendable {
    private final class Running: Sendable {
        let tag: Mutex<String>
        /// A tag to move to right after the next answer (a rollout that finishes once the old
        /// version was seen), decided on the app's own thread, not by a test's task.
        let next = Mutex<String?>(nil)
        init(_ tag: String) { self.tag = Mutex(tag) }
    }

    private let running: Running
    public let server: HTTPDouble

    public init(running tag: String) throws {
        let running = Running(tag)
        self.running = running
        server = try HTTPDouble { request in
            let tag = running.tag.withLock { tag in
                defer { if let next = running.next.withLock({ $0.take() }) { tag = next } }
                return tag
            }
            switch request.path {
            case "/version": return .json(200, ["version": tag, "build": ["number": 42, "ready": true]])
            case "/": return DoubleResponse(status: 200, body: "<p>acme api \(tag)</p>")
            default: return .json(404, ["error": "not found", "detail": request.path])
            }
        }
    }

    public func roll(to tag: String) { running.tag.withLock { $0 = tag } }

    /// Serves the current tag once more, then `tag`.
    public func roll(afterNextAnswerTo tag: String) { running.next.withLock { $0 = tag } }

    public var url: String { server.url }
    /// Requests served so far.
    public var requests: Int { server.requests.count }
}
