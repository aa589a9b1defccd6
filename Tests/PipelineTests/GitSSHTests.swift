import Foundation
import Git
import ImageReference
import Manifests
import Pipeline
import TestSupport
import Testing

/// Push over SSH to Debian's OpenSSH server on a loopback port, with key authentication and a
/// known_hosts check. libgit2's Debian build carries SSH (libssh2); see `LibGit2.supportsSSH`.
@Suite(.serialized) struct GitSSHTests {
    static let fixtures = fixturesDirectory()

    struct SSHServer {
        let remote: URL
        let server: InetdServer
        let state: URL
        let clientKey: String
        let knownHosts: String

        init() throws {
            remote = try GitFixture.bareRepository(from: GitSSHTests.fixtures.appendingPathComponent("env-repo"))
            let directory = try TemporaryDirectory.make("imagebump-sshd").path
            func keygen(_ arguments: [String]) throws { try Command.succeed("/usr/bin/ssh-keygen", ["-q", "-N", ""] + arguments) }
            try keygen(["-t", "ed25519", "-f", "\(directory)/host_key"])
            try keygen(["-t", "ecdsa", "-b", "256", "-m", "PEM", "-f", "\(directory)/client_key"])
            try FileManager.default.copyItem(atPath: "\(directory)/client_key.pub", toPath: "\(directory)/authorized_keys")
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
            try """
            HostKey \(directory)/host_key
            AuthorizedKeysFile \(directory)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            UsePAM no
            StrictModes no

            """.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
            // One `sshd -i` per connection, on a socket bound to port 0 here.
            server = try InetdServer(executable: "/usr/sbin/sshd", arguments: ["-i", "-e", "-f", "\(directory)/sshd_config"])
            let port = server.port
            clientKey = try String(contentsOfFile: "\(directory)/client_key", encoding: .utf8)
            let hostKey = try String(contentsOfFile: "\(directory)/host_key.pub", encoding: .utf8).split(separator: " ")
            knownHosts = "[127.0.0.1]:\(port) \(hostKey[0]) \(hostKey[1])\n"
            state = try TemporaryDirectory.make("imagebump-state")
        }

        func target(key: String? = nil, knownHosts: String? = nil, acceptUnknown: Bool = false) throws -> GitTarget {
            GitTarget(
                name: "dev", repository: "env", url: "ssh://root@127.0.0.1:\(server.port)\(remote.path)", branch: "main",
                paths: [try PathGlob("envs/dev/**")], mode: .commit,
                credentials: GitCredentials(
                    method: .sshKey(user: "root", privateKey: key ?? clientKey, passphrase: nil),
                    knownHosts: knownHosts ?? self.knownHosts, acceptUnknownHostKeys: acceptUnknown))
        }

        var writer: WriteBack { WriteBack(settings: WriteBackSettings(stateDirectory: state.path)) }
    }

    func request() throws -> BumpRequest { try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")) }

    @Test func pushWorksWithAKeyAndAKnownHost() throws {
        #expect(LibGit2.supportsSSH)
        let setup = try SSHServer()
        let result = try setup.writer.bump(request(), target: setup.target(), eventID: "ssh-1")
        #expect(result.outcome == .pushed)
        #expect(try GitFixture.git(["--git-dir", setup.remote.path, "rev-parse", "main"]) == result.commit?.hex)
    }

    @Test func anUnknownHostIsRefusedUnlessAccepted() throws {
        let setup = try SSHServer()
        do {
            _ = try setup.writer.bump(request(), target: setup.target(knownHosts: ""), eventID: "ssh-2")
            Issue.record("expected the host key to be refused")
        } catch let error as WriteBackError {
            #expect(error.gitError?.code == .hostKeyUnknown, "\(error)")
            #expect(error.description.contains("is not in known_hosts"))
        }
        let accepted = try setup.writer.bump(request(), target: setup.target(knownHosts: "", acceptUnknown: true), eventID: "ssh-3")
        #expect(accepted.outcome == .pushed)
    }

    @Test func aChangedHostKeyIsRefusedEvenWhenUnknownKeysAreAccepted() throws {
        let setup = try SSHServer()
        let impostor = try TemporaryDirectory.make("imagebump-impostor").appendingPathComponent("key").path
        try Command.succeed("/usr/bin/ssh-keygen", ["-q", "-N", "", "-t", "ed25519", "-f", impostor])
        let other = try String(contentsOfFile: impostor + ".pub", encoding: .utf8).split(separator: " ")
        let listed = "[127.0.0.1]:\(setup.server.port) \(other[0]) \(other[1])\n"
        for accept in [false, true] {
            do {
                _ = try setup.writer.bump(request(), target: setup.target(knownHosts: listed, acceptUnknown: accept), eventID: "ssh-5")
                Issue.record("a host key that contradicts known_hosts was accepted (acceptUnknown: \(accept))")
            } catch let error as WriteBackError {
                #expect(error.gitError?.code == .hostKeyChanged, "\(error)")
                #expect(error.description.contains("does not match the one in known_hosts"))
            }
        }
    }

    @Test func hashedKnownHostsEntriesAreRead() throws {
        let setup = try SSHServer()
        let file = try TemporaryDirectory.make("imagebump-hashed").appendingPathComponent("known_hosts")
        try setup.knownHosts.write(to: file, atomically: true, encoding: .utf8)
        try Command.succeed("/usr/bin/ssh-keygen", ["-q", "-H", "-f", file.path])
        let hashed = try String(contentsOf: file, encoding: .utf8)
        #expect(hashed.hasPrefix("|1|"))
        let result = try setup.writer.bump(request(), target: setup.target(knownHosts: hashed), eventID: "ssh-6")
        #expect(result.outcome == .pushed)
    }

    @Test func aWrongKeyIsAnAuthenticationFailure() throws {
        let setup = try SSHServer()
        let other = try SSHServer()  // its client key is not authorised on `setup`
        do {
            _ = try setup.writer.bump(request(), target: setup.target(key: other.clientKey), eventID: "ssh-4")
            Issue.record("expected authentication to fail")
        } catch let error as WriteBackError {
            #expect(error.gitError?.code == .authenticationFailed, "\(error)")
            #expect(!error.description.contains("PRIVATE KEY"))
        }
    }
}
