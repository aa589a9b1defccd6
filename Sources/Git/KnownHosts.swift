import Crypto
import Foundation

/// OpenSSH `known_hosts` lookup: is this raw host key the one listed for this host and port?
///
/// Plain host patterns (`host`, `[host]:port`, comma-separated, `*`/`?` wildcards, `!negation`)
/// and hashed entries (`|1|salt|hash`, HMAC-SHA1 of the host name, as `ssh-keygen -H` writes
/// them) are read; `@revoked` lines and comments are not.
enum KnownHosts {
    /// What known_hosts says of a host's key.
    enum Verdict: Equatable {
        /// The key is listed for the host.
        case listed
        /// The host is listed with another key of the same type: a man in the middle, or a
        /// re-keyed host that a person must confirm. Never accepted.
        case changed
        /// The host is not listed with a key of this type.
        case unknown
    }

    static func verdict(key: [UInt8], host: String, port: Int, in text: String) -> Verdict {
        let names = port == 22 ? [host, "[\(host)]:22"] : ["[\(host)]:\(port)"]
        let type = keyType(key)
        var verdict = Verdict.unknown
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, !fields[0].hasPrefix("#"), !fields[0].hasPrefix("@revoked") else { continue }
            guard hostMatches(String(fields[0]), names: names) else { continue }
            guard let listed = Data(base64Encoded: String(fields[2])).map(Array.init) else { continue }
            if listed == key { return .listed }
            if keyType(listed) == type || String(fields[1]) == type { verdict = .changed }
        }
        return verdict
    }

    static func contains(key: [UInt8], host: String, port: Int, in text: String) -> Bool {
        verdict(key: key, host: host, port: port, in: text) == .listed
    }

    /// Whether a known_hosts host field names one of `names`.
    static func hostMatches(_ field: String, names: [String]) -> Bool {
        if field.hasPrefix("|1|") {
            let parts = field.split(separator: "|", omittingEmptySubsequences: true)
            guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else {
                return false
            }
            return names.contains { HMAC.sha1(key: Array(salt), data: Array($0.utf8)) == Array(hash) }
        }
        let patterns = field.split(separator: ",")
        let negated = patterns.contains { pattern in
            pattern.hasPrefix("!") && names.contains { matches(String(pattern.dropFirst()), $0) }
        }
        return !negated && patterns.contains { pattern in names.contains { matches(String(pattern), $0) } }
    }

    /// The key type named at the start of an SSH public key blob (`ssh-ed25519`, …).
    static func keyType(_ blob: [UInt8]) -> String {
        guard blob.count >= 4 else { return "" }
        let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard length > 0, length <= 64, blob.count >= 4 + length else { return "" }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }

    /// `*` and `?` wildcards, as OpenSSH reads host patterns.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        func match(_ p: Substring, _ n: Substring) -> Bool {
            guard let first = p.first else { return n.isEmpty }
            switch first {
            case "*": return match(p.dropFirst(), n) || (!n.isEmpty && match(p, n.dropFirst()))
            case "?": return !n.isEmpty && match(p.dropFirst(), n.dropFirst())
            default: return n.first == first && match(p.dropFirst(), n.dropFirst())
            }
        }
        return match(Substring(pattern), Substring(name))
    }
}
