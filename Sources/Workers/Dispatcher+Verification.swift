import Events
import Journal
import Logging

/// What the registry says of an event's tag before it is written (`images[].verify`).
public enum Verification: Sendable, Hashable {
    case verified
    /// The registry does not have the tag, or not with the event's digest: not written (skipped).
    case refused(String)
    /// The registry could not be asked: the event fails (a later poll or `events retry` takes it up).
    case unavailable(String)
}

extension Dispatcher {
    /// Whether the registry confirms the event's tag (always, without a verifier); a refusal ends
    /// the event `skipped`, a registry that cannot be asked ends it `failed`, each with the reason.
    /// Called in the inbox's order (events of one image keep theirs); the client's deadlines bound the wait.
    func verified(_ id: String, _ event: ImageEvent) async -> Bool {
        guard let verify else { return true }
        switch await verify(event) {
        case .verified:
            return true
        case .refused(let reason):
            try? await journal.update(id, status: .skipped, detail: reason)
            metrics.count("imagebump_events_finished_total", [("status", "skipped")])
            logger.info("event skipped", metadata: ["event.id": "\(id)", "image": "\(event)", "reason": "\(reason)"])
        case .unavailable(let reason):
            try? await journal.update(id, status: .failed, detail: reason, error: reason)
            metrics.count("imagebump_events_finished_total", [("status", "failed")])
            logger.info("event failed", metadata: ["event.id": "\(id)", "image": "\(event)", "error": "\(reason)"])
        }
        return false
    }
}
