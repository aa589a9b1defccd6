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
        return Self.redactURLPasswords(result)
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
