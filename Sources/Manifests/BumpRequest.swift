import ImageReference

/// "Move image X to tag T (and/or digest D)": what every bump starts from.
public struct BumpRequest: Sendable, Hashable, CustomStringConvertible {
    public let image: ImageName
    public let tag: String?
    public let digest: Digest?
    /// What the request does to digests (a tag policy's `digest:` setting).
    public var digestHandling = DigestMode.keep

    /// A request needs a tag, a digest, or both: `ghcr.io/acme/api:1.4.2[@sha256:…]`.
    public init(_ reference: ImageReference) throws(BumpRequestError) {
        guard reference.tag != nil || reference.digest != nil else { throw BumpRequestError(reference: reference.description) }
        self.image = reference.name
        self.tag = reference.tag
        self.digest = reference.digest
    }

    public var description: String { ImageReference(name: image, tag: tag, digest: digest).description }

    /// What this request does to one reference.
    public func decide(_ reference: Reference) -> Decision {
        guard reference.tag != nil || reference.digest != nil else {
            return .leftAlone("it has no tag or digest; adding one would change what it means")
        }
        guard !reference.slots.isEmpty else {
            return .leftAlone(
                "its value is not written on one line byte for byte (multi-line or escaped), so it cannot be edited surgically")
        }
        let newTag: String?
        let newDigest: Digest?
        if tag != nil, digestHandling == .only, reference.digest != nil {
            return .leftAlone("it is pinned by digest, and the policy (digest: only) moves pins only on digest-only events")
        }
        if let tag {
            if reference.tag == nil {
                guard let digest else { return .leftAlone("it is pinned by digest only and the request carries no digest") }
                (newTag, newDigest) = (nil, digest)
            } else {
                // A tag@digest pin gets the new digest, or loses its (now stale) digest; with `pin`,
                // a plain tag gains the digest too.
                // (where the reference is one `name:tag` string, or has a digest field of its own, even
                // an empty one: a lone tag field has no room for a digest).
                let canPin =
                    digestHandling == .pin
                    && (reference.slots.allSatisfy { $0.shape == .referenceSuffix } || reference.slots.contains { $0.shape == .digest })
                (newTag, newDigest) = (tag, reference.digest == nil && !canPin ? nil : digest)
            }
        } else {
            guard reference.digest != nil else { return .leftAlone("it is not pinned by digest and the request carries only a digest") }
            (newTag, newDigest) = (reference.tag, digest)
        }
        if newTag == reference.tag, newDigest == reference.digest { return .upToDate }
        return .change(tag: newTag, digest: newDigest)
    }

    /// The outcome for one reference.
    public enum Decision: Sendable, Hashable {
        case change(tag: String?, digest: Digest?)
        case upToDate
        case leftAlone(String)
    }
}

/// A bump request named neither a tag nor a digest.
public struct BumpRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reference: String
    public var description: String {
        "\"\(reference)\" names no tag or digest; write IMAGE:TAG, IMAGE@DIGEST or IMAGE:TAG@DIGEST"
    }
}
