import Crypto
import Foundation
import Git
import ImageReference
import Manifests
import Pipeline
import TestSupport
import Testing

/// Commits signed with `git.signingKey` are verified by git itself (`verify-commit`,
/// `gpg.format=ssh`, an `allowed_signers` file), and a tampered one is refused.
@Suite struct SignedCommitTests {
    /// A new OpenSSH key of `type` (`ed25519`, or `ecdsa` P-256): its private text and its public line.
    static func key(_ type: String) throws -> (privateKey: String, publicKey: String) {
        let directory = try TemporaryDirectory.make("imagebump-signing")
        let path = directory.appendingPathComponent("key").path
        try Command.succeed("/usr/bin/ssh-keygen", ["-q", "-N", "", "-t", type] + (type == "ecdsa" ? ["-b", "256"] : []) + ["-f", path])
        return (try String(contentsOfFile: path, encoding: .utf8), try String(contentsOfFile: path + ".pub", encoding: .utf8))
    }

    @Test(arguments: ["ed25519", "ecdsa"])
    func everyCommitIsSignedAndGitVerifiesIt(_ type: String) throws {
        let (privateKey, publicKey) = try Self.key(type)
        let remote = try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo"))
        let state = try TemporaryDirectory.make("imagebump-signed")
        var settings = WriteBackSettings(stateDirectory: state.path, author: Identity(name: "imagebump", email: "imagebump@example.test"))
        settings.signingKey = privateKey
        let writer = WriteBack(settings: settings)
        let target = GitTarget(name: "dev", repository: "env", url: remote.path, branch: "main", paths: [try PathGlob("envs/dev/**")], mode: .commit)
        // Two commits: one image, then a batch of the same image's newer tag and a revert-like force.
        let first = try writer.bump(BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2")), target: target, eventID: "sign-1")
        let second = try writer.bump(
            [BumpItem(BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.1")), eventID: "sign-2", force: true)], target: target)
        let allowed = state.appendingPathComponent("allowed_signers")
        let parts = publicKey.split(separator: " ")
        try "imagebump@example.test namespaces=\"git\" \(parts[0]) \(parts[1])\n".write(to: allowed, atomically: true, encoding: .utf8)
        func verify(_ commit: String) throws -> Command.Result {
            try Command.run(
                "/usr/bin/git",
                ["--git-dir", remote.path, "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile=\(allowed.path)", "verify-commit", commit])
        }
        for commit in [first.commit?.hex, second.commit?.hex] {
            let hex = try #require(commit)
            let result = try verify(hex)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("Good \"git\" signature for imagebump@example.test"), "\(result.stderr)")
        }
        // The same commit with one byte of its message changed keeps the signature, and fails.
        let hex = try #require(first.commit?.hex)
        let tampered = try Command.succeed(
            "/bin/sh", ["-c", "git --git-dir \"$0\" cat-file commit \"$1\" | sed 's/1.4.2/1.4.9/' | git --git-dir \"$0\" hash-object -t commit -w --stdin", remote.path, hex]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tampered != hex)
        #expect(try verify(tampered).status != 0)
    }

    @Test func aKeyWithAPassphraseOrOfAnotherKindIsRefusedWithTheReason() throws {
        let directory = try TemporaryDirectory.make("imagebump-signing-bad")
        let path = directory.appendingPathComponent("key").path
        try Command.succeed("/usr/bin/ssh-keygen", ["-q", "-N", "secret-passphrase", "-t", "ed25519", "-f", path])
        try Command.succeed("/usr/bin/ssh-keygen", ["-q", "-N", "", "-t", "rsa", "-b", "2048", "-f", path + "-rsa"])
        for (file, reason) in [(path, "the key has a passphrase"), (path + "-rsa", "ssh-rsa keys are not supported")] {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            do {
                _ = try SSHSigner(openSSHPrivateKey: text)
                Issue.record("\(file) was taken")
            } catch {
                #expect(error.message.hasPrefix(reason), "\(error)")
            }
        }
    }
}
