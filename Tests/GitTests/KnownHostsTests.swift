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

    @Test func libgit2HasTheTransportsWeNeed() {
        #expect(LibGit2.supportsSSH)
    }
}
