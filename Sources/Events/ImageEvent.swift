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
    /// The sender's delivery id, when it sends one.
    public let deliveryID: String?

    public init(registry: String, repository: String, tag: String?, digest: Digest?, source: String, deliveryID: String?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.source = source
        self.deliveryID = deliveryID
        image = try? ImageName(parsing: "\(registry)/\(repository)")
    }

    /// An event for an image name already parsed (no second parse).
    public init(image: ImageName, tag: String?, digest: Digest?, source: String, deliveryID: String?) {
        registry = image.domain
        repository = image.path
        self.tag = tag
        self.digest = digest
        self.source = source
        self.deliveryID = deliveryID
        self.image = image
    }

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
public struct PayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
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
        do { value = try JSONReader.value(body) } catch { throw PayloadError(reason: "the body is not JSON: \(error)") }
        guard let object = value as? [String: Any] else { throw PayloadError(reason: "the body is not a JSON object") }
        return object
    }

    /// The first JSON object in the bytes, tolerating trailing bytes after it (a GCR fixture
    /// from a real delivery carries a stray `}`; Go's decoder, which Pub/Sub clients use,
    /// accepts it too).
    static func firstObject(_ body: [UInt8]) throws(PayloadError) -> [String: Any] {
        let value: Any
        do { value = try JSONReader.prefix(body).value } catch { throw PayloadError(reason: "the body is not JSON: \(error)") }
        guard let object = value as? [String: Any] else { throw PayloadError(reason: "the body is not a JSON object") }
        return object
    }

    static func string(_ value: Any?) -> String? {
        guard let text = value as? String, !text.isEmpty else { return nil }
        return text
    }

    static func dictionary(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }

    static func integer(_ value: Any?) -> Int? { (value as? Int) ?? (value as? String).flatMap { Int($0) } }

    static func bool(_ value: Any?) -> Bool { (value as? Bool) ?? false }

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
