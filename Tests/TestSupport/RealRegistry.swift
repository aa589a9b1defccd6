import Foundation
import Synchronization

/// A real CNCF distribution registry (Debian's `docker-registry` 2.8) on a loopback port, and
/// real images pushed to it by `skopeo` from OCI layouts built with `umoci` — no Docker engine.
/// Optionally: notifications to a URL, htpasswd basic auth, token auth with a realm the test
/// serves (``RegistryTokenService``), TLS. Its methods run programs and wait for them: call
/// them through ``blocking(_:)`` from async tests.
public final class RealRegistry: @unchecked Sendable {  // immutable but for `made` (a Mutex); the server handle is only released
    /// How clients must authenticate.
    public enum Authentication: Sendable {
        case none
        /// htpasswd (bcrypt) with one user.
        case basic(user: String, password: String)
        /// Bearer tokens from `service`'s realm, signed by its key, trusted through its certificate.
        case token(RegistryTokenService)
    }

    public let port: Int
    public let root: URL
    public let layout: URL
    /// `127.0.0.1:PORT`, as image names spell it.
    public var host: String { "127.0.0.1:\(port)" }
    let authentication: Authentication
    private let server: Process
    private let made = Mutex(0)

    /// Starts the registry; with `notify`, every notification goes to that URL with these headers
    /// (an `X-Request-Id` as an ingress adds one, say).
    public init(
        notify: (url: String, headers: [String: String])? = nil, authentication: Authentication = .none,
        tls: TestCertificates.Files? = nil
    ) throws {
        root = try TemporaryDirectory.make("imagebump-registry")
        layout = root.appendingPathComponent("layout")
        port = try BackgroundServer.freePort()
        self.authentication = authentication
        var sections = ""
        if let notify {
            let headerLines = notify.headers.sorted { $0.key < $1.key }.map { "        \($0.key): [\"\($0.value)\"]" }.joined(separator: "\n")
            sections += """
                notifications:
                  endpoints:
                    - name: imagebump
                      url: \(notify.url)
                      headers:
                \(headerLines)
                      timeout: 2s
                      threshold: 3
                      backoff: 1s

                """
        }
        switch authentication {
        case .none: break
        case .basic(let user, let password):
            let hash = try Command.succeed(
                "/usr/bin/env",
                ["python3", "-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password]
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let file = root.appendingPathComponent("htpasswd")
            try "\(user):\(hash)\n".write(to: file, atomically: true, encoding: .utf8)
            sections += "auth:\n  htpasswd: {realm: test-registry, path: \(file.path)}\n"
        case .token(let service):
            sections += """
                auth:
                  token: {realm: "\(service.realm)", service: \(service.service), issuer: \(service.issuer), rootcertbundle: \(service.certificate)}

                """
        }
        let tlsLine = tls.map { ", tls: {certificate: \($0.serverCertificate), key: \($0.serverKey)}" } ?? ""
        let config = root.appendingPathComponent("config.yml")
        try """
        version: 0.1
        log: {level: error}
        storage:
          filesystem: {rootdirectory: \(root.appendingPathComponent("data").path)}
        http: {addr: "127.0.0.1:\(port)"\(tlsLine)}
        \(sections)
        """.write(to: config, atomically: true, encoding: .utf8)
        server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        server.arguments = ["serve", config.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // Ready once the API's base endpoint answers at all (401 with auth) — at most 10 s.
        let scheme = tls == nil ? "http" : "https"
        let deadline = Date().addingTimeInterval(60)  // a loaded two-core machine starts it slowly
        while (try? Command.run("/usr/bin/curl", ["-sk", "-o", "/dev/null", "\(scheme)://127.0.0.1:\(port)/v2/"]).status) != 0 {
            guard Date() < deadline else { throw GitFixture.Failure(description: "docker-registry did not listen on 127.0.0.1:\(port)") }
            usleep(50_000)
        }
    }

    deinit { kill(server.processIdentifier, SIGKILL) }

    static let script = fixturesDirectory().appendingPathComponent("registry/oci-image.py").path

    /// A new single-platform image in the layout; its manifest digest.
    public func makeImage() throws -> (name: String, digest: String) {
        let name = "single-\(made.withLock { $0 += 1; return $0 })"
        let out = try Command.succeed("/usr/bin/env", ["python3", Self.script, "single", layout.path, name, "\(UUID())"])
        return (name, out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A new multi-arch image (an index of linux/amd64 and linux/arm64); the index's digest
    /// and the children's.
    public func makeMultiArchImage() throws -> (name: String, index: String, children: [String]) {
        let name = "multi-\(made.withLock { $0 += 1; return $0 })"
        let lines = try Command.succeed("/usr/bin/env", ["python3", Self.script, "multi", layout.path, name, "\(UUID())"])
            .split(separator: "\n").map(String.init)
        return (name, lines[0], Array(lines.dropFirst()))
    }

    /// Pushes a layout image as `repository:tag`, or by digest when `tag` is nil, as CI would
    /// (`--all` pushes a multi-arch image's children by digest, then the index with the tag),
    /// with the registry's credentials.
    public func push(_ image: String, to repository: String, tag: String?, digest: String? = nil) throws {
        let reference = tag.map { ":\($0)" } ?? "@\(digest ?? "")"
        var arguments = ["copy", "--all", "--dest-tls-verify=false"]
        switch authentication {
        case .none: break
        case .basic(let user, let password): arguments.append("--dest-creds=\(user):\(password)")
        case .token(let service): arguments.append("--dest-creds=\(service.user):\(service.password)")
        }
        try Command.succeed(
            "/usr/bin/skopeo", arguments + ["oci:\(layout.path):\(image)", "docker://127.0.0.1:\(port)/\(repository)\(reference)"])
    }

    /// Pushes one new single-platform image as each of `tags` of `repository`; its digest.
    @discardableResult
    public func pushNew(_ repository: String, tags: [String]) throws -> String {
        let image = try makeImage()
        for tag in tags { try push(image.name, to: repository, tag: tag) }
        return image.digest
    }
}
