import ImageReference
import PropertyBased
import Testing

@testable import Manifests

/// For random manifests built from every kind of reference: after a bump, extracting again
/// finds the new tag at every editable reference, and every byte outside the tag/digest
/// spans is unchanged.
@Suite struct BumpPropertyTests {
    static let image = try! ImageName(parsing: "ghcr.io/acme/api")
    static let digest = "sha256:" + String(repeating: "5", count: 64)

    static func choose(_ options: [String]) -> Generator<String, Shrink.None<String?>> {
        Gen.element(of: options).map { $0! }
    }

    static let tags = choose(["1.4.1", "1.9", "2", "20240101", "v1.2.3", "main-abc123-17", "1.0", "latest"])
    static let quote = choose(["", "'", "\""])
    static let comment = choose(["", " # a comment", "   # imagebump keeps this"])

    /// One top-level entry of a manifest, built from a kind, a tag, a quoting style and a comment.
    static let block = zip(Gen.int(in: 0...9), tags, quote, comment).map {
        (kind: Int, tag: String, quote: String, comment: String) -> String in
        switch kind {
        case 0: return "  containers:\n    - name: c\n      image: \(quote)ghcr.io/acme/api:\(tag)\(quote)\(comment)\n"
        case 1: return "  image:\n    repository: ghcr.io/acme/api\(comment)\n    tag: \(quote)\(tag)\(quote)\(comment)\n"
        case 2: return "  images:\n    - name: ghcr.io/acme/api\n      newTag: \(quote)\(tag)\(quote)\(comment)\n"
        case 3: return "  value: \(quote)\(tag)\(quote) # imagebump: ghcr.io/acme/api:tag\n"
        case 4: return "  image: ghcr.io/acme/api:\(tag)@\(digest)\(comment)\n"
        case 5: return "  image: ghcr.io/acme/other:\(tag)\(comment)\n  # image: ghcr.io/acme/api:\(tag)\n"
        // Helm values with templates in comments and strings; Argo CD kustomize strings; a registry with a path.
        case 7: return "  ## e.g. {{ .Release.Name }}.example.com\n  image: {registry: ghcr.io, repository: acme/api, tag: \(quote)\(tag)\(quote)}\n  host: \"{{ .Release.Name }}\"\n"
        case 8: return "  kustomize:\n    images:\n      - \(quote)ghcr.io/acme/api-base=ghcr.io/acme/api:\(tag)\(quote)\(comment)\n"
        case 9: return "  image: {registry: ghcr.io/acme, repository: api, tag: \(quote)\(tag)\(quote)}\(comment)\n"
        default: return "  sidecar: {image: {repository: ghcr.io/acme/api, tag: \(quote)\(tag)\(quote)}}\(comment)\n"
        }
    }
    static let manifest = block.array(of: 1...8).map { (blocks: [String]) -> String in
        blocks.enumerated().map { "item\($0.offset):\(["", " # top"][$0.offset % 2])\n\($0.element)" }.joined()
    }
    static let newTag = choose([
        "1.4.2", "1.10", "20240102", "v2.0.0", "on", "3", "2024-01-15", "2024-1-5", "0o17", "1_000", "y", "012", "0x1F", "0b101", "1e3",
        "null", "off", "no", "NO", "1.0e-3",
    ])

    @Test func bumpThenExtractFindsTheNewTagAndNothingElseMoved() async {
        await propertyCheck(count: 300, input: Self.manifest, Self.newTag) { text, newTag in
            let bytes = Array(text.utf8)
            let extractor = ReferenceExtractor()
            let before = extractor.extract(file: "m.yaml", bytes: bytes, image: Self.image)
            guard before.skipped == nil else {
                Issue.record("generated manifest was skipped: \(before.skipped!.reason)\n\(text)")
                return
            }
            let request = try! BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:\(newTag)"))
            let update: FileUpdate
            do { update = try ManifestUpdater(extractor: extractor).update(file: "m.yaml", bytes: bytes, request: request) } catch {
                Issue.record("update failed: \(error)\n\(text)")
                return
            }
            let after = extractor.extract(file: "m.yaml", bytes: update.updated, image: Self.image)
            #expect(after.references.count == before.references.count)
            for reference in after.references where reference.isEditable {
                #expect(
                    reference.tag == newTag,
                    "line \(reference.line) still says \(reference.tag ?? "-")\n\(String(decoding: update.updated, as: UTF8.self))")
                #expect(reference.digest == nil, "a stale digest survived on line \(reference.line)")
                // A tag written as a plain scalar reads as a string to every YAML reader (YAML 1.1
                // and 1.2: no date, number, boolean or null); otherwise it was quoted.
                for slot in reference.slots where slot.shape == .tag && slot.style == .plain {
                    #expect(PlainScalarType.isString(newTag), "\(newTag) written plain on line \(reference.line)")
                }
            }
            #expect(
                Self.masked(bytes, before.references) == Self.masked(update.updated, after.references),
                "bytes outside tag/digest spans changed:\n\(text)\n→\n\(String(decoding: update.updated, as: UTF8.self))")
        }
    }

    /// The bytes with every value slot (and quotes the updater may have added) replaced by `§`.
    static func masked(_ bytes: [UInt8], _ references: [Reference]) -> [UInt8] {
        var result = bytes
        let ranges = Set(
            references.flatMap { reference in
                reference.slots.map { slot -> Range<Int> in
                    let quoted = slot.shape != .referenceSuffix && (slot.style == .doubleQuoted || slot.style == .singleQuoted)
                    return quoted ? (slot.range.lowerBound - 1)..<(slot.range.upperBound + 1) : slot.range
                }
            })
        for range in ranges.sorted(by: { $0.lowerBound > $1.lowerBound }) {
            result.replaceSubrange(range, with: Array("§".utf8))
        }
        return result
    }
}
