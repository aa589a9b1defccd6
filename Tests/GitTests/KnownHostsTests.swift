import Crypto
import Foundation
import Testing

@testable import Git

@Suite struct KnownHostsTests {
    static let key: [UInt8] = Array("ssh-ed25519-key-bytes".utf8)
    static let encoded = Data(key).base64EncodedString()

    @Test func plainHostsAndPortsMatch() {
        let text = """
            # comment
            git.example.com,10.0.0.1 ssh-ed25519 \(Self.encoded)
            [127.0.0.1]:2222 ssh-ed25519 \(Self.encoded)
            """
        #expect(KnownHosts.contains(key: Self.key, host: "git.example.com", port: 22, in: text))
        #expect(KnownHosts.contains(key: Self.key, host: "127.0.0.1", port: 2222, in: text))
        #expect(!KnownHosts.contains(key: Self.key, host: "127.0.0.1", port: 22, in: text))
        #expect(!KnownHosts.contains(key: Array("other".utf8), host: "git.example.com", port: 22, in: text))
    }

    @Test func wildcardsAndNegation() {
        let text = "*.example.com,!evil.example.com ssh-ed25519 \(Self.encoded)"
        #expect(KnownHosts.contains(key: Self.key, host: "git.example.com", port: 22, in: text))
        #expect(!KnownHosts.contains(key: Self.key, host: "evil.example.com", port: 22, in: text))
    }

    /// A blob as SSH writes it: the key type, then its bytes.
    static func blob(_ type: String, _ body: String) -> [UInt8] {
        let name = Array(type.utf8)
        return [0, 0, 0, UInt8(name.count)] + name + Array(body.utf8)
    }

    @Test func aDifferentKeyOfTheSameTypeIsAChangeNotAnUnknownHost() {
        let listed = Self.blob("ssh-ed25519", "listed")
        let text = "git.example.com ssh-ed25519 \(Data(listed).base64EncodedString())"
        #expect(KnownHosts.verdict(key: listed, host: "git.example.com", port: 22, in: text) == .listed)
        #expect(KnownHosts.verdict(key: Self.blob("ssh-ed25519", "impostor"), host: "git.example.com", port: 22, in: text) == .changed)
        #expect(KnownHosts.verdict(key: Self.blob("ecdsa-sha2-nistp256", "other"), host: "git.example.com", port: 22, in: text) == .unknown)
        #expect(KnownHosts.verdict(key: Self.blob("ssh-ed25519", "impostor"), host: "other.example.com", port: 22, in: text) == .unknown)
    }

    @Test func hashedEntriesMatchTheirHostOnly() {
        // `|1|salt|HMAC-SHA1(salt, "[127.0.0.1]:2222")`, as ssh-keygen -H writes it.
        let salt = Array("0123456789abcdefghij".utf8)
        let hash = HMAC.sha1(key: salt, data: Array("[127.0.0.1]:2222".utf8))
        let text = "|1|\(Data(salt).base64EncodedString())|\(Data(hash).base64EncodedString()) ssh-ed25519 \(Self.encoded)"
        #expect(KnownHosts.contains(key: Self.key, host: "127.0.0.1", port: 2222, in: text))
        #expect(!KnownHosts.contains(key: Self.key, host: "127.0.0.1", port: 22, in: text))
        #expect(!KnownHosts.contains(key: Self.key, host: "127.0.0.2", port: 2222, in: text))
    }

    @Test func libgit2HasTheTransportsWeNeed() {
        #expect(LibGit2.supportsSSH)
    }
}
