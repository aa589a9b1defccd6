import Events
import Foundation
import Journal
import Workers

/// `ghcr.io/acme/api` in the env-repo fixture: events for it, and the tag each environment runs.
public enum APIRelease {
    /// `Fixtures/env-repo`: envs/{dev,acc,prd}/api with `ghcr.io/acme/api:1.4.1`.
    public static let environmentRepository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/env-repo")

    /// Journals and submits an event for `ghcr.io/acme/api:TAG`, as the intake would; returns its id.
    public static func post(_ tag: String, _ journal: Journal, _ dispatcher: Dispatcher) async throws -> String {
        let event = ImageEvent(registry: "ghcr.io", repository: "acme/api", tag: tag, digest: nil, source: "generic", deliveryID: nil)
        let (id, _) = try await journal.record(event)
        dispatcher.submit(id, event)
        return id
    }

    /// The tag in an environment's deployment on `main` (git runs off the cooperative threads).
    public static func tag(in remote: URL, _ environment: String) async throws -> String {
        let text = try await blocking {
            try GitFixture.git(["--git-dir", remote.path, "show", "main:envs/\(environment)/api/deployment.yaml"])
        }
        let line = text.split(separator: "\n").first { $0.contains("image: ghcr.io/acme/api:") }
        return String(line?.split(separator: ":").last?.split(separator: " ").first ?? "")
    }
}
