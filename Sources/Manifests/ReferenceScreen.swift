import ImageReference

/// A cheap byte test run before parsing: a file that does not contain the image's repository
/// path (nor, where Flux policies map to the image, `$imagepolicy`) cannot reference it.
///
/// The path without the registry is used because Helm values split the registry off
/// (`registry: ghcr.io`, `repository: acme/api`) and Docker Hub names drop `library/`.
public struct ReferenceScreen: Sendable {
    private let needles: [[UInt8]]

    public init(image: ImageName, options: ExtractionOptions = ExtractionOptions()) {
        let path = image.domain == ImageName.dockerHub && image.path.hasPrefix("library/") ? String(image.path.dropFirst(8)) : image.path
        var needles = [Array(path.utf8)]
        if options.fluxPolicies.values.contains(image) { needles.append(Array("$imagepolicy".utf8)) }
        self.needles = needles
    }

    /// Passes files holding a marker comment (ours or Flux's).
    public static let anyMarker = ReferenceScreen(needles: [Array("imagebump:".utf8), Array("$imagepolicy".utf8)])

    private init(needles: [[UInt8]]) {
        self.needles = needles
    }

    /// A stable text naming what this screen looks for (to key caches of its answers).
    public var signature: String {
        needles.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\u{1}")
    }

    /// Whether the bytes might reference the image (false means certainly not).
    public func mightReference(_ bytes: UnsafeRawBufferPointer) -> Bool {
        needles.contains { ByteSearch.contains($0, in: bytes) }
    }

    public func mightReference(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { mightReference($0) }
    }
}
