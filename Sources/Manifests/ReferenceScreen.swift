import ImageReference

/// A cheap byte test run before parsing: a file that does not contain every part of the
/// image's repository path (nor, where Flux policies map to the image, `$imagepolicy`) cannot
/// reference it.
///
/// The parts are looked for one by one, not as one path: Helm values split the registry off
/// (`registry: ghcr.io`, `repository: acme/api`) and may carry part of the path with it
/// (`registry: ghcr.io/probe`, `repository: p7`); Docker Hub names drop `library/`.
public struct ReferenceScreen: Sendable {
    /// Each group passes when all its needles are in the bytes; the screen passes when any group does.
    private let groups: [[[UInt8]]]

    public init(image: ImageName, options: ExtractionOptions = ExtractionOptions()) {
        let path = image.domain == ImageName.dockerHub && image.path.hasPrefix("library/") ? String(image.path.dropFirst(8)) : image.path
        var groups = [path.split(separator: "/").map { Array($0.utf8) }]
        if options.fluxPolicies.values.contains(image) { groups.append([Array("$imagepolicy".utf8)]) }
        self.groups = groups
    }

    /// Passes files holding a marker comment (ours or Flux's).
    public static let anyMarker = ReferenceScreen(groups: [[Array("imagebump:".utf8)], [Array("$imagepolicy".utf8)]])

    private init(groups: [[[UInt8]]]) {
        self.groups = groups
    }

    /// A stable text naming what this screen looks for (to key caches of its answers).
    public var signature: String {
        groups.map { $0.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\u{2}") }.joined(separator: "\u{1}")
    }

    /// Whether the bytes might reference the image (false means certainly not).
    public func mightReference(_ bytes: UnsafeRawBufferPointer) -> Bool {
        groups.contains { group in group.allSatisfy { ByteSearch.contains($0, in: bytes) } }
    }

    public func mightReference(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { mightReference($0) }
    }
}
