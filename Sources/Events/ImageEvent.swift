import Foundation
import ImageReference

/// "Image X was pushed": what every receiver's payload is reduced to.
public struct ImageEvent: Sendable, Hashable, CustomStringConvertible {
    /// Registry host (with port), e.g. `ghcr.io`, `localhost:5000`.
    public let registry: String
    /// Repository path inside the registry, e.g. `acme/api`.
    public let repository: String
    public let tag: String?
    /// A valid digest, or nil.
    public let digest: Digest?
    /// The receiver type that decoded it.
    public let source: String
    /// The sender's id for this event (a delivery header, or the event's own id in an envelope
    /// of several), when it sends one. Never a request-level header such as `X-Request-Id`,
    /// which an ingress adds to every request. Identifies the event only together with its
    /// image, tag and digest (one delivery may carry several events).
    public let deliveryID: String?
    /// When the sender says the image was pushed (milliseconds since 1970), when it says so:
    /// what orders a late or replayed delivery against the event that last wrote the image.
    public let pushedAtMilliseconds: Int64?

    public init(
        registry: String, repository: String, tag: String?, digest: Digest?, source: String, deliveryID: String?,
        pushedAtMilliseconds: Int64? = nil
    ) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.source = source
        self.deliveryID = deliveryID
        self.pushedAtMilliseconds = pushedAtMilliseconds
        image = try? ImageName(parsing: "\(registry)/\(repository)")
    }

    /// An event for an image name already parsed (no second parse).
    public init(image: ImageName, tag: String?, digest: Digest?, source: String, deliveryID: String?, pushedAtMilliseconds: Int64? = nil) {
        registry = image.domain
        repository = image.path
        self.tag = tag
        self.digest = digest
        self.source = source
        self.deliveryID = deliveryID
        self.pushedAtMilliseconds = pushedAtMilliseconds
        self.image = image
    }

    /// Whether a registry (or a forge's package registry) sent it, rather than a person or a CI
    /// job naming the reference on purpose (`generic`). A registry sends an untagged push for
    /// every child manifest of a multi-arch image, for attestations and for pushes by digest.
    public var isFromRegistry: Bool { source != ReceiverType.generic.rawValue }

    /// An untagged push from a registry: it may move only references pinned by digest alone,
    /// and only for images whose policy says `digest: only`.
    public var isUntaggedRegistryPush: Bool { tag == nil && isFromRegistry }

    /// The normalised image name (nil when registry/repository do not form a valid one),
    /// parsed once when the event is made.
    public let image: ImageName?

    public var description: String {
        "\(registry)/\(repository)\(tag.map { ":\($0)" } ?? "")\(digest.map { "@\($0)" } ?? "")"
    }
}

/// What a receiver made of a delivery.
public enum DecodedDelivery: Sendable, Hashable {
    /// Image pushes to act on (one delivery may carry several).
    case accepted([ImageEvent])
    /// A valid delivery that is not an image push (delete, pull, ping, a Helm chart…).
    case ignored(String)
    /// One of imagebump's merge requests was merged or closed (forge webhooks).
    case merged(MergeNotice)
}

/// A body that cannot be read as the sender's payload (answered 400).
/// Why a delivery's body cannot be read: a code to match, the reason in a sentence (what is
/// missing or wrong, and what to send), and the JSON reader's or parser's error when there was one.
public struct PayloadError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// Not JSON, or not a JSON object.
        case notJSON
        /// JSON, but not this sender's shape (an envelope without `events`, a field missing).
        case unexpectedShape
        /// A field is there but its value is not valid (a tag, a digest, an image reference, base64).
        case invalidValue
    }

    public let code: Code
    public let reason: String
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ reason: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.reason = reason
        self.underlying = underlying
    }

    public var description: String { reason }
}

/// Settings a receiver needs beyond the payload.
public struct ReceiverContext: Sendable, Hashable {
    /// The registry host to use when the payload does not name a public one (distribution,
    /// GitLab's bundled registry, Nexus without a mapping).
    public var registryHost: String?
    /// Nexus repository name → the Docker connector host:port serving it.
    public var nexusHosts: [String: String]

    public init(registryHost: String? = nil, nexusHosts: [String: String] = [:]) {
        self.registryHost = registryHost
        self.nexusHosts = nexusHosts
    }
}

/// Helpers the decoders share.
enum Payload {
    static func object(_ body: [UInt8]) throws(PayloadError) -> [String: Any] {
        let value: Any
        do { value = try JSONReader.value(body) } catch { throw PayloadError(.notJSON, "the body is not JSON: \(error)", underlying: error) }
        guard let object = value as? [String: Any] else { throw PayloadError(.notJSON, "the body is not a JSON object") }
        return object
    }

    /// The first JSON object in the bytes, tolerating trailing bytes after it (a GCR fixture
    /// from a real delivery carries a stray `}`; Go's decoder, which Pub/Sub clients use,
    /// accepts it too).
    static func firstObject(_ body: [UInt8]) throws(PayloadError) -> [String: Any] {
        let value: Any
        do { value = try JSONReader.prefix(body).value } catch { throw PayloadError(.notJSON, "the body is not JSON: \(error)", underlying: error) }
        guard let object = value as? [String: Any] else { throw PayloadError(.notJSON, "the body is not a JSON object") }
        return object
    }

    static func string(_ value: Any?) -> String? {
        guard let text = value as? String, !text.isEmpty else { return nil }
        return text
    }

    static func dictionary(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

    static func integer(_ value: Any?) -> Int? { (value as? Int) ?? (value as? String).flatMap { Int($0) } }

    static func bool(_ value: Any?) -> Bool { (value as? Bool) ?? false }

    /// A push time: RFC 3339 text (`2024-01-15T10:20:30.123456789Z`, `+02:00`, `+0000`) or
    /// seconds since 1970 (Docker Hub, Harbor). Times before 2000 are placeholders
    /// (`0001-01-01T00:00:00Z` in GitHub's samples) and read as absent.
    static func time(_ value: Any?) -> Int64? {
        let milliseconds: Int64?
        switch value {
        case let seconds as Int: milliseconds = Int64(seconds) * 1000
        case let seconds as Double: milliseconds = Int64(seconds * 1000)
        case let text as String: milliseconds = RFC3339.milliseconds(text)
        default: milliseconds = nil
        }
        guard let milliseconds, milliseconds >= 946_684_800_000 else { return nil }
        return milliseconds
    }

    /// A digest if the text is a valid one (documentation samples are often truncated).
    static func digest(_ text: String?) -> Digest? { text.flatMap { try? Digest(parsing: $0) } }

    /// A tag if the text is a valid one.
    static func tag(_ text: String?) -> String? {
        guard let text, !text.isEmpty, ImageReference.isValidTag(text) else { return nil }
        return text
    }

    /// The host of a URL (`https://host:port/...` → `host:port`).
    static func host(ofURL text: String?) -> String? {
        guard let text, let components = URLComponents(string: text), let host = components.host else { return nil }
        return components.port.map { "\(host):\($0)" } ?? host
    }
}
