/// A container image reference, `name[:tag][@digest]`, parsed by the distribution reference
/// grammar and normalised (see ``ImageName``).
///
/// ``writtenNameLength`` remembers how long the name was as written, so that an editor can
/// replace only the `:tag@digest` suffix of the original text.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The normalised repository.
    public let name: ImageName
    /// The tag, if any; `[\w][\w.-]{0,127}`.
    public let tag: String?
    /// The digest, if any.
    public let digest: Digest?
    /// UTF-8 length of the name part of the parsed text: the `:tag`/`@digest` suffix starts here.
    public let writtenNameLength: Int

    public init(name: ImageName, tag: String?, digest: Digest?) {
        self.name = name
        self.tag = tag
        self.digest = digest
        self.writtenNameLength = name.description.utf8.count
    }

    /// Parses `text`; throws with the rule that was broken.
    public init(parsing text: some StringProtocol) throws(ImageReferenceError) {
        let input = String(text)
        var rest = Substring(input)
        guard !rest.isEmpty else { throw ImageReferenceError(.empty, input: input, reason: "it is empty") }

        var digest: Digest?
        if let at = rest.utf8.firstIndex(of: UInt8(ascii: "@")) {
            digest = try Digest(parsing: rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.utf8.lastIndex(of: UInt8(ascii: ":")), !rest[colon...].utf8.contains(UInt8(ascii: "/")) {
            let candidate = rest[rest.index(after: colon)...]
            try Self.validateTag(candidate, input: input)
            tag = String(candidate)
            rest = rest[..<colon]
        }
        self.name = try Self.parseName(rest, input: input)
        self.tag = tag
        self.digest = digest
        self.writtenNameLength = rest.utf8.count
    }

    /// Checks a tag against `[\w][\w.-]{0,127}`.
    public static func validateTag(_ tag: some StringProtocol, input: String? = nil) throws(ImageReferenceError) {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, ASCII.isWord(first), bytes.count <= 128,
            bytes.allSatisfy({ ASCII.isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else {
            throw ImageReferenceError(
                .invalidTag, input: input ?? String(tag),
                reason: "the tag \"\(tag)\" must be 1–128 of [A-Za-z0-9_.-] and not start with '.' or '-'")
        }
    }

    /// Whether `tag` is a valid tag.
    public static func isValidTag(_ tag: some StringProtocol) -> Bool {
        (try? validateTag(tag)) != nil
    }

    private static func parseName(_ name: Substring, input: String) throws(ImageReferenceError) -> ImageName {
        guard !name.isEmpty else {
            throw ImageReferenceError(.empty, input: input, reason: "the repository name is empty")
        }
        guard name.utf8.count <= ImageName.maximumLength else {
            throw ImageReferenceError(.nameTooLong, input: input, reason: "the name is longer than 255 characters")
        }
        var domain = ImageName.dockerHub
        var path = name
        if let slash = name.utf8.firstIndex(of: UInt8(ascii: "/")) {
            let first = name[..<slash]
            let looksLikeDomain =
                first.utf8.contains(UInt8(ascii: ".")) || first.utf8.contains(UInt8(ascii: ":")) || first == "localhost"
                || first.utf8.contains(where: ASCII.isUpper)
            if looksLikeDomain {
                try validateDomain(first, input: input)
                domain = String(first)
                path = name[name.index(after: slash)...]
            }
        }
        if domain == "index.docker.io" || domain == "registry-1.docker.io" { domain = ImageName.dockerHub }
        for component in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Substring.init) {
            try validatePathComponent(component, input: input)
        }
        if domain == ImageName.dockerHub, !path.utf8.contains(UInt8(ascii: "/")) {
            return ImageName(domain: domain, path: "library/\(path)")
        }
        return ImageName(domain: domain, path: String(path))
    }

    /// `domain := host [':' port]`, host is dot-separated labels or a bracketed IPv6 address.
    private static func validateDomain(_ domain: Substring, input: String) throws(ImageReferenceError) {
        func fail(_ reason: String) -> ImageReferenceError { ImageReferenceError(.invalidDomain, input: input, reason: reason) }
        var host = domain
        if host.hasPrefix("[") {
            guard let close = host.utf8.firstIndex(of: UInt8(ascii: "]")),
                host[host.index(after: host.startIndex)..<close].utf8.allSatisfy({
                    ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".")
                })
            else { throw fail("the IPv6 registry address \"\(domain)\" is malformed") }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), after.count > 1, after.dropFirst().utf8.allSatisfy(ASCII.isDigit) else {
                    throw fail("the registry port in \"\(domain)\" must be digits")
                }
            }
            return
        }
        if let colon = host.utf8.lastIndex(of: UInt8(ascii: ":")) {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.utf8.allSatisfy(ASCII.isDigit) else {
                throw fail("the registry port in \"\(domain)\" must be digits")
            }
            host = host[..<colon]
        }
        for label in host.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            let bytes = Array(label)
            guard let first = bytes.first, let last = bytes.last, ASCII.isAlphanumeric(first), ASCII.isAlphanumeric(last),
                bytes.allSatisfy({ ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else { throw fail("the registry host \"\(host)\" must be letters, digits, '-' and '.'") }
        }
    }

    /// `path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*`.
    private static func validatePathComponent(_ component: Substring, input: String) throws(ImageReferenceError) {
        let bytes = Array(component.utf8)
        if bytes.contains(where: ASCII.isUpper) {
            throw ImageReferenceError(
                .uppercaseRepository, input: input,
                reason: "repository names must be lowercase (\"\(component)\")")
        }
        func fail() -> ImageReferenceError {
            ImageReferenceError(
                .invalidPathComponent, input: input,
                reason: "the path component \"\(component)\" must be lowercase letters and digits separated by '.', '_', '__' or dashes")
        }
        var index = 0
        var expectAlphanumeric = true
        while index < bytes.count {
            let byte = bytes[index]
            if ASCII.isLowerAlphanumeric(byte) {
                expectAlphanumeric = false
                index += 1
                continue
            }
            guard !expectAlphanumeric else { throw fail() }
            switch byte {
            case UInt8(ascii: "."): index += 1
            case UInt8(ascii: "_"): index += (index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "_")) ? 2 : 1
            case UInt8(ascii: "-"): while index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            default: throw fail()
            }
            expectAlphanumeric = true
        }
        if expectAlphanumeric { throw fail() }
    }

    /// Two references are equal when they name the same thing, however they were spelled.
    public static func == (lhs: ImageReference, rhs: ImageReference) -> Bool {
        lhs.name == rhs.name && lhs.tag == rhs.tag && lhs.digest == rhs.digest
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(tag)
        hasher.combine(digest)
    }

    /// The canonical spelling: `docker.io/library/nginx:1.25@sha256:…`.
    public var description: String { name.description + suffix }

    /// The `:tag@digest` part (possibly empty).
    public var suffix: String {
        (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }
}
