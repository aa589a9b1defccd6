import Foundation
import Synchronization
import TestSupport

/// A real CNCF distribution registry (Debian's `docker-registry`) on a loopback port, sending
/// its notifications to a URL, and real images pushed to it by `skopeo` from OCI layouts built
/// with `umoci` — no Docker engine. Its methods run programs and wait for them: call them
/// through ``blocking(_:)`` from async tests.
final class RealRegistry: @unchecked Sendable {  // immutable but for `made` (a Mutex); the server handle is only released
    let port: Int
    let root: URL
    let layout: URL
    private let server: Process
    private let made = Mutex(0)

    /// Starts the registry; every notification goes to `notify` with these headers (an
    /// `X-Request-Id` as an ingress adds one, say).
    init(notify: String, headers: [String: String]) throws {
        root = try TemporaryDirectory.make("imagebump-registry")
        layout = root.appendingPathComponent("layout")
        port = try BackgroundServer.freePort()
        let headerLines = headers.sorted { $0.key < $1.key }.map { "        \($0.key): [\"\($0.value)\"]" }.joined(separator: "\n")
        let config = root.appendingPathComponent("config.yml")
        try """
        version: 0.1
        log: {level: error}
        storage:
          filesystem: {rootdirectory: \(root.appendingPathComponent("data").path)}
        http: {addr: "127.0.0.1:\(port)"}
        notifications:
          endpoints:
            - name: imagebump
              url: \(notify)
              headers:
        \(headerLines)
              timeout: 2s
              threshold: 3
              backoff: 1s
        """.write(to: config, atomically: true, encoding: .utf8)
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        server.arguments = ["serve", config.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // Ready once it answers the API's base endpoint (at most 10 s).
        let deadline = Date().addingTimeInterval(10)
        while (try? Command.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/v2/"]).status) != 0 {
            guard Date() < deadline else { throw GitFixture.Failure(description: "docker-registry did not listen on 127.0.0.1:\(port)") }
            usleep(50_000)
        }
    }

    deinit { kill(server.processIdentifier, SIGKILL) }

    static let script = fixturesDirectory().appendingPathComponent("registry/oci-image.py").path

    /// A new single-platform image in the layout; its manifest digest.
    func makeImage() throws -> (name: String, digest: String) {
        let name = "single-\(made.withLock { $0 += 1; return $0 })"
        let out = try Command.succeed("/usr/bin/env", ["python3", Self.script, "single", layout.path, name, "\(UUID())"])
        return (name, out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A new multi-arch image (an index of linux/amd64 and linux/arm64); the index's digest
    /// and the children's.
    func makeMultiArchImage() throws -> (name: String, index: String, children: [String]) {
        let name = "multi-\(made.withLock { $0 += 1; return $0 })"
        let lines = try Command.succeed("/usr/bin/env", ["python3", Self.script, "multi", layout.path, name, "\(UUID())"])
            .split(separator: "\n").map(String.init)
        return (name, lines[0], Array(lines.dropFirst()))
    }

    /// Pushes a layout image as `repository:tag`, or by digest when `tag` is nil, as CI would
    /// (`--all` pushes a multi-arch image's children by digest, then the index with the tag).
    func push(_ image: String, to repository: String, tag: String?, digest: String? = nil) throws {
        let reference = tag.map { ":\($0)" } ?? "@\(digest ?? "")"
        try Command.succeed(
            "/usr/bin/skopeo",
            ["copy", "--all", "--dest-tls-verify=false", "oci:\(layout.path):\(image)", "docker://127.0.0.1:\(port)/\(repository)\(reference)"])
    }
}
