import Foundation
import ImageReference
import Testing

@testable import Manifests

@Suite struct UpdateTests {
    let updater = ManifestUpdater()

    func request(_ text: String) throws -> BumpRequest { try BumpRequest(ImageReference(parsing: text)) }

    @Test(arguments: [
        ("1.10", false), ("1.4.2", true), ("20240101", false), ("1_000", false), ("0x1F", false), ("0o17", false),
        ("1e3", false), ("1E-3", false), ("1.", false), ("on", false), ("Off", false), ("yes", false), ("N", false),
        ("null", false), ("NULL", false), ("true", false), ("v1.10", true), ("1.10-rc1", true), ("latest", true),
        ("main-abc123", true), ("1.4.2_build", true), ("0.1.2", true), ("123abc", true),
        ("2024-01-15", false), ("2024-1-5", false), ("2024-01-15-rc1", true), ("v2024-01-15", true), ("20240115-abc", true),
    ])
    func plainScalarTypes(text: String, isString: Bool) {
        #expect(PlainScalarType.isString(text) == isString, "\(text)")
    }

    @Test func upToDateMakesNoChange() throws {
        let text = Array("image: ghcr.io/acme/api:1.4.2\n".utf8)
        let update = try updater.update(file: "a.yaml", bytes: text, request: request("ghcr.io/acme/api:1.4.2"))
        #expect(!update.isChanged)
        #expect(update.upToDate.count == 1)
        #expect(update.changes.isEmpty)
    }

    @Test func changeListCarriesOldAndNew() throws {
        let text = Array("a:\n  image:\n    repository: ghcr.io/acme/api\n    tag: 1.4.1\n".utf8)
        let update = try updater.update(file: "a.yaml", bytes: text, request: request("ghcr.io/acme/api:1.4.2"))
        #expect(
            update.changes == [
                Change(
                    file: "a.yaml", line: 4, kind: .helmValues, image: "ghcr.io/acme/api", oldTag: "1.4.1", newTag: "1.4.2", oldDigest: nil,
                    newDigest: nil)
            ])
        #expect(update.changes.first?.summary == "1.4.1 → 1.4.2")
    }

    @Test func verificationCatchesAnEditThatSaysSomethingElse() throws {
        let original = Array("image: ghcr.io/acme/api:1.4.1\n".utf8)
        let references = updater.extractor.extract(file: "a.yaml", bytes: original).references
        let wrong = Array("image: ghcr.io/acme/api:9.9.9\n".utf8)
        let image = try ImageName(parsing: "ghcr.io/acme/api")
        #expect(throws: UpdateError.self) {
            try updater.verify(
                file: "a.yaml", updated: wrong, image: image, references: references, expected: [references[0]: ("1.4.2", nil)])
        }
        do throws(UpdateError) {
            try updater.verify(
                file: "a.yaml", updated: wrong, image: image, references: references, expected: [references[0]: ("1.4.2", nil)])
        } catch {
            #expect(error.code == .verificationFailed)
            #expect(error.description.hasPrefix("a.yaml: line 1: expected 1.4.2"))
        }
    }

    @Test func requestWithoutTagOrDigestIsRefused() {
        #expect(throws: BumpRequestError.self) { try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api")) }
    }

    @Test func unifiedDiffHasGitShape() {
        let old = Array("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nimage: x:1\n".utf8)
        let new = Array("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nimage: x:2\n".utf8)
        #expect(
            UnifiedDiff.render(file: "f.yaml", old: old, new: new) == """
                --- a/f.yaml
                +++ b/f.yaml
                @@ -9,4 +9,4 @@
                 i
                 j
                 k
                -image: x:1
                +image: x:2

                """)
        #expect(UnifiedDiff.render(file: "f.yaml", old: old, new: old).isEmpty)
    }

    @Test(arguments: [
        ("envs/dev/**", "envs/dev/api/values.yaml", true),
        ("envs/dev/**", "envs/prd/api/values.yaml", false),
        ("envs/dev", "envs/dev/api.yaml", true),
        ("envs/*/api.yaml", "envs/acc/api.yaml", true),
        ("envs/*/api.yaml", "envs/acc/x/api.yaml", false),
        ("**/*.yaml", "a/b/c.yaml", true),
        ("**/*.yaml", "c.yaml", true),
        ("**/*.yaml", "c.yml", false),
        ("apps/values-?.yml", "apps/values-a.yml", true),
        ("apps/[ab]/x", "apps/b/x", true),
        ("apps/[!ab]/x", "apps/b/x", false),
        ("./envs/dev/", "envs/dev/x", true),
    ])
    func pathGlobs(pattern: String, path: String, matches: Bool) throws {
        #expect(try PathGlob(pattern).matches(path) == matches, "\(pattern) ~ \(path)")
    }

    @Test(arguments: ["", "/abs/**", "../up/**", "a/[bc"])
    func badGlobsAreRefused(pattern: String) {
        #expect(throws: PathGlobError.self) { try PathGlob(pattern) }
    }
}

/// Digest handling (a tag policy's `digest:`): each mode against one reference of each shape,
/// expected files in Fixtures/digest-modes.
@Suite struct DigestHandlingTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/digest-modes")
    static let tagAndDigest = "ghcr.io/acme/api:1.4.2@sha256:2222222222222222222222222222222222222222222222222222222222222222"
    static let digestOnly = "ghcr.io/acme/api@sha256:3333333333333333333333333333333333333333333333333333333333333333"

    @Test(arguments: [
        (DigestMode.keep, tagAndDigest, "keep.yaml"), (.pin, tagAndDigest, "pin.yaml"),
        (.only, tagAndDigest, "only.yaml"), (.only, digestOnly, "only-digest-event.yaml"),
    ])
    func eachModeChangesWhatItShould(_ handling: DigestMode, _ reference: String, _ expected: String) throws {
        let original = try Array(Data(contentsOf: Self.directory.appendingPathComponent("original.yaml")))
        var request = try BumpRequest(ImageReference(parsing: reference))
        request.digestHandling = handling
        let update = try ManifestUpdater().update(file: "original.yaml", bytes: original, request: request)
        let wanted = try String(contentsOf: Self.directory.appendingPathComponent(expected), encoding: .utf8)
        #expect(String(decoding: update.updated, as: UTF8.self) == wanted)
        if handling == .only, reference == Self.tagAndDigest {
            #expect(update.leftAlone.map(\.reason).allSatisfy { $0.contains("digest: only") })
            #expect(update.leftAlone.count == 2)
        }
    }
}

/// Empty and null digests (issue 13): left exactly as they are when the request has no digest,
/// never blocking the edit of the tag next to them; filled in place when a pin is asked for.
@Suite struct EmptyDigestTests {
    let updater = ManifestUpdater()

    @Test(arguments: ["  digest:\n  pullPolicy: IfNotPresent\n", "  digest: null\n", "  digest: ~\n", "  digest: \"\"\n"])
    func anEmptyOrNullDigestStaysWhenTheRequestHasNone(_ digestLine: String) throws {
        let text = "image:\n  repository: ghcr.io/probe/p5\n  tag: 1.0.0\n" + digestLine
        let update = try updater.update(
            file: "values.yaml", bytes: Array(text.utf8), request: try BumpRequest(ImageReference(parsing: "ghcr.io/probe/p5:1.0.1")))
        let expected = text.replacingOccurrences(of: "tag: 1.0.0", with: "tag: 1.0.1")
        #expect(String(decoding: update.updated, as: UTF8.self) == expected)
    }

    @Test func anEmptyDigestIsFilledInPlaceWhenAPinIsAskedFor() throws {
        let text = "image:\n  repository: ghcr.io/probe/p5\n  tag: 1.0.0\n  digest:\n  pullPolicy: IfNotPresent\n"
        let digest = "sha256:" + String(repeating: "1", count: 64)
        var request = try BumpRequest(ImageReference(parsing: "ghcr.io/probe/p5:1.0.1@\(digest)"))
        request.digestHandling = .pin
        let update = try updater.update(file: "values.yaml", bytes: Array(text.utf8), request: request)
        #expect(
            String(decoding: update.updated, as: UTF8.self)
                == "image:\n  repository: ghcr.io/probe/p5\n  tag: 1.0.1\n  digest: \(digest)\n  pullPolicy: IfNotPresent\n")
    }
}
