import Configuration
import Events
import ImageReference
import Registry
import Workers

/// `images[].verify`: before a webhook's tag is written, its manifest is read from the
/// registry (one `HEAD`); a tag the registry does not have, or whose digest is not the event's,
/// is not written. A multi-arch tag answers with its index digest, as a registry's push event
/// carries it. Events polling made were read from the registry already and pass.
public struct ManifestVerifier: Sendable {
    let configuration: Configuration
    let registries: Registries

    public init(configuration: Configuration, registries: Registries) {
        self.configuration = configuration
        self.registries = registries
    }

    /// Whether any image is verified (else the workers need no verifier).
    public var isNeeded: Bool { configuration.images.contains(where: \.verify) }

    public func check(_ event: ImageEvent) async -> Verification {
        guard event.source != "poll", let image = event.image, let tag = event.tag,
            configuration.images.first(where: { $0.name == image })?.verify == true
        else { return .verified }
        let found: Digest?
        do { found = try await registries.client(for: image).digest(image.path, reference: tag) } catch {
            return .unavailable("cannot verify \(image):\(tag) against the registry: \(error)")
        }
        guard let found else {
            return .refused("not verified: the registry has no tag \(tag) in \(image) (verify: true); a webhook for a tag that was never pushed is not written")
        }
        if let claimed = event.digest, claimed != found {
            return .refused("not verified: the registry's \(image):\(tag) is \(found), the event says \(claimed) (verify: true)")
        }
        return .verified
    }
}
