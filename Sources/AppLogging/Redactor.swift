import Foundation
/// Removes secrets from log text: values under secret-sounding keys, every registered secret
/// value wherever it appears, and passwords in URLs (`https://user:pw@host`).
public struct Redactor: Sendable {
    public static let mask = "[REDACTED]"
    static let secretKeyWords = ["token", "password", "secret", "authorization", "signature", "private", "credential", "apikey", "api_key"]

    /// Exact secret values (tokens read from `env:`/`file:`), longest first.
    public private(set) var secrets: [String] = []

    public init(secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    /// Registers a secret value; values shorter than 4 characters are ignored (too common).
    public mutating func add(_ secret: String) {
        guard secret.count >= 4, !secrets.contains(secret) else { return }
        secrets.append(secret)
        secrets.sort { $0.count > $1.count }
    }

    /// Whether a metadata key names something secret (`git.token`, `Authorization`).
    public static func isSecretKey(_ key: String) -> Bool {
        let last = key.split(separator: ".").last.map { $0.lowercased() } ?? key.lowercased()
        return secretKeyWords.contains { last.contains($0) }
    }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingAll(secret, with: Self.mask)
        }
        return Self.redactCredentialHeaders(Self.redactURLPasswords(result))
    }

    /// Credentials an error text may echo from request headers, whether or not they were
    /// registered: `Authorization: Bearer …`/`Basic …`/`token …`, `PRIVATE-TOKEN: …`,
    /// `X-Gitlab-Token: …`, a bare `Bearer …`.
    static func redactCredentialHeaders(_ text: String) -> String {
        let lower = text.lowercased()
        guard ["bearer ", "basic ", "token", "authorization"].contains(where: { lower.contains($0) }) else { return text }
        var bytes = Array(text.utf8)
        let lowered = Array(lower.utf8)
        func isCredential(_ byte: UInt8) -> Bool {
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || "-._~+/=:".utf8.contains(byte)
        }
        var ranges: [Range<Int>] = []
        /// Masks the run of credential bytes starting at `start` (after spaces), if it is long enough.
        func maskRun(from start: Int, minimum: Int) {
            var begin = start
            while begin < bytes.count, bytes[begin] == 0x20 { begin += 1 }
            var end = begin
            while end < bytes.count, isCredential(bytes[end]) { end += 1 }
            if end - begin >= minimum { ranges.append(begin..<end) }
        }
        for marker in ["bearer ", "basic ", "token "] {
            var from = 0
            while let found = lowered[from...].firstRange(of: Array(marker.utf8)) {
                maskRun(from: found.upperBound, minimum: 8)
                from = found.upperBound
            }
        }
        for header in ["private-token:", "x-gitlab-token:", "x-api-key:"] {
            var from = 0
            while let found = lowered[from...].firstRange(of: Array(header.utf8)) {
                maskRun(from: found.upperBound, minimum: 4)
                from = found.upperBound
            }
        }
        guard !ranges.isEmpty else { return text }
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        for range in merged.reversed() { bytes.replaceSubrange(range, with: Array(mask.utf8)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `scheme://user:password@` → `scheme://user:[REDACTED]@`.
    static func redactURLPasswords(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var output = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            output += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != " " && $0 != "\"" && $0 != "\n" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                output += rest[..<colon] + ":" + mask + "@"
                rest = rest[rest.index(after: at)...]
            }
        }
        return output + rest
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var output = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            output += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
