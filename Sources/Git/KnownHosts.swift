import Foundation

/// OpenSSH `known_hosts` lookup: is this raw host key listed for this host and port?
///
/// Plain host patterns (`host`, `[host]:port`, comma-separated, `*`/`?` wildcards) are read;
/// hashed entries (`|1|…`) are not, so list hosts unhashed (`ssh-keyscan` prints them so).
enum KnownHosts {
    static func contains(key: [UInt8], host: String, port: Int, in text: String) -> Bool {
        let names = port == 22 ? [host, "[\(host)]:22"] : ["[\(host)]:\(port)"]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, !fields[0].hasPrefix("#"), !fields[0].hasPrefix("@revoked") else { continue }
            let patterns = fields[0].split(separator: ",")
            let negated = patterns.contains { pattern in
                pattern.hasPrefix("!") && names.contains { matches(String(pattern.dropFirst()), $0) }
            }
            guard !negated, patterns.contains(where: { pattern in names.contains { matches(String(pattern), $0) } }) else { continue }
            if let listed = Data(base64Encoded: String(fields[2])), Array(listed) == key { return true }
        }
        return false
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
