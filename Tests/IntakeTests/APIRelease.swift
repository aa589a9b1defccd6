import Events
import Foundation
import Intake
import Journal
import TestSupport

/// `ghcr.io/acme/api` in the env-repo fixture: events for it, and the tag each environment runs.
enum APIRelease {
    /// Journals and submits an event for `ghcr.io/acme/api:TAG`, as the intake would; returns its id.
    static func post(_ tag: String, _ journal: Journal, _ dispatcher: Dispatcher) async throws -> String {
        let event = ImageEvent(registry: "ghcr.io", repository: "acme/api", tag: tag, digest: nil, source: "generic", deliveryID: nil)
        let (id, _) = try await journal.record(event)
        dispatcher.submit(id, event)
        return id
    }

    /// The tag in an environment's deployment on `main` (git runs off the cooperative threads).
    static func tag(in remote: URL, _ environment: String) async throws -> String {
        let text = try await blocking {
            try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/\(environment)/api/deployment.yaml"])
        }
        let line = text.split(separator: "\n").first { $0.contains("image: ghcr.io/acme/api:") }
        return String(line?.split(separator: ":").last?.split(separator: " ").first ?? "")
    }
}
