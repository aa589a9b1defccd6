import Foundation
import Git
import ImageReference
import Manifests
import Pipeline
import TestSupport
import Testing

/// Push over a real Git server: git's own `http-backend` behind a CGI server on 127.0.0.1
/// with Basic authentication, over HTTP and over HTTPS with a test CA.
@Suite(.serialized) struct GitHTTPTests {
    static let fixtures = fixturesDirectory()
    static let token = "glpat-Xq7s3cr3tT0ken"

    struct Server {
        let remote: URL
        let server: BackgroundServer
        let state: URL

        init(tls: (cert: String, key: String)? = nil) throws {
            remote = try GitFixture.bareRepository(from: GitHTTPTests.fixtures.appendingPathComponent("env-repo"))
            var arguments = [
                GitHTTPTests.fixtures.appendingPathComponent("servers/git-http-server.py").path,
                "--root", remote.deletingLastPathComponent().path, "--user", "imagebump", "--password", GitHTTPTests.token,
            ]
            if let tls { arguments += ["--cert", tls.cert, "--key", tls.key] }
            server = try BackgroundServer(executable: "/usr/bin/env", arguments: ["python3"] + arguments)
            state = try TemporaryDirectory.make("imagebump-state")
        }

        /// HTTPS uses `localhost`: Debian's libgit2 verifies with mbedTLS, which matches DNS names
        /// in subjectAltName but not IP addresses.
        func target(scheme: String = "http", password: String) throws -> GitTarget {
            GitTarget(
                name: "dev", repository: "env",
                url: "\(scheme)://\(scheme == "https" ? "localhost" : "127.0.0.1"):\(server.port)/remote.git", branch: "main",
                paths: [try PathGlob("envs/dev/**")], mode: .commit,
                credentials: GitCredentials(method: .userPassword(user: "imagebump", password: password)))
        }

        var writer: WriteBack {
            WriteBack(
                settings: WriteBackSettings(stateDirectory: state.path, committer: Identity(name: "bot", email: "bot@imagebump.test")))
        }
    }

    func request() throws -> BumpRequest { try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")) }

    @Test func pushWorksWithTheRightToken() throws {
        let setup = try Server()
        let result = try setup.writer.bump(request(), target: setup.target(password: Self.token), eventID: "http-1")
        #expect(result.outcome == .pushed)
        #expect(try GitFixture.git(["--git-dir", setup.remote.path, "rev-parse", "main"]) == result.commit?.hex)
        // Nothing secret is kept on disk by the cache.
        let cacheConfig = try String(contentsOfFile: setup.state.appendingPathComponent("repos/env.git/config").path, encoding: .utf8)
        #expect(!cacheConfig.contains(Self.token))
    }

    @Test func aWrongTokenIsAClearAuthenticationErrorThatDoesNotShowTheToken() throws {
        let setup = try Server()
        let wrong = "glpat-WRONGwrongWRONG"
        do {
            _ = try setup.writer.bump(request(), target: setup.target(password: wrong), eventID: "http-2")
            Issue.record("expected an authentication failure")
        } catch let error as WriteBackError {
            #expect(error.gitError?.code == .authenticationFailed, "\(error)")
            #expect(error.description.contains("authentication failed"))
            #expect(!error.description.contains(wrong))
            #expect(!String(reflecting: error).contains(wrong))
        }
    }

    @Test func httpsVerifiesTheServerAgainstTheConfiguredCA() throws {
        #expect(LibGit2.supportsHTTPS)
        let pki = try TestCertificates.make()
        let setup = try Server(tls: (pki.serverCertificate, pki.serverKey))
        // Unknown CA: refused, never silently accepted.
        do {
            _ = try setup.writer.bump(request(), target: setup.target(scheme: "https", password: Self.token), eventID: "tls-1")
            Issue.record("expected a certificate error")
        } catch let error as WriteBackError {
            #expect(error.gitError?.code == .certificateRejected, "\(error)")
        }
        try LibGit2.useCertificateAuthorities(file: pki.caCertificate, directory: nil)
        let result = try setup.writer.bump(request(), target: setup.target(scheme: "https", password: Self.token), eventID: "tls-2")
        #expect(result.outcome == .pushed)
    }
}
