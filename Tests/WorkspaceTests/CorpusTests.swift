import Foundation
import ImageReference
import Manifests
import TestSupport
import Testing
import Workspace

/// `Fixtures/corpus/`: files in the shapes public GitOps and chart repositories keep their
/// images in (Bitnami values with `{{ }}` in comments and strings, a Flux HelmRelease with
/// templated strings, Argo CD Applications with kustomize images, helm parameters and values
/// text, an ApplicationSet, Image Updater's write-back file, Kustomize overlays, a CRD, Compose,
/// prometheus/grafana values, tags YAML would misread). `Fixtures/corpus-reader.py` reads the
/// same files with PyYAML by the README's rules — written from the README, not from our code.
/// Both must find the same references; every image bumped to a look-alike tag must leave files
/// that PyYAML still reads the same way, with the tag a string and no other byte changed.
@Suite struct CorpusTests {
    static let corpus = fixturesDirectory().appendingPathComponent("corpus")

    /// The tags each bumped image gets in turn: YAML 1.1 dates, octal, exponent, booleans,
    /// null, hex, binary, `_` digits, and ordinary ones.
    static let newTags = [
        "2024-01-16", "013", "1e4", "on", "null", "True", "0x1F", "1_000", "2024-1-5", "0b101", "Y", "NO", "7.2.5-debian-12-r10", "v2.0",
    ]

    /// One reference as both readers describe it.
    struct Row: Hashable, Comparable, CustomStringConvertible {
        let file: String
        let line: Int
        let kind: String
        let image: String
        let tag: String?
        let digest: String?
        var description: String { "\(file):\(line) \(kind) \(image):\(tag ?? "-")@\(digest ?? "-")" }
        static func < (lhs: Row, rhs: Row) -> Bool { lhs.description < rhs.description }
    }

    struct Reading {
        var rows: [Row] = []
        var skipped: [String] = []
        /// References whose tag PyYAML's SafeLoader does not read as a string.
        var nonStringTags: [String] = []
    }

    static func independentReading(of directory: URL) async throws -> Reading {
        let python = try PythonTools.program("python")
        let output = try await Command.succeeding(python, [fixturesDirectory().appendingPathComponent("corpus-reader.py").path, directory.path])
        var reading = Reading()
        for line in output.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let skipped = object["skipped"] as? String {
                reading.skipped.append(skipped)
                continue
            }
            let row = Row(
                file: try #require(object["file"] as? String), line: try #require(object["line"] as? Int), kind: try #require(object["kind"] as? String),
                image: try #require(object["image"] as? String), tag: object["tag"] as? String, digest: object["digest"] as? String)
            reading.rows.append(row)
            if row.tag != nil, object["tagType"] as? String != "str" { reading.nonStringTags.append("\(row) read as \(object["tagType"] ?? "?")") }
        }
        reading.rows.sort()
        reading.skipped.sort()
        return reading
    }

    static func engineReading(of directory: URL) throws -> (rows: [Row], skipped: [String]) {
        let report = try Workspace(root: directory.path).scan(image: nil)
        let rows = report.references.map {
            Row(file: $0.file, line: $0.line, kind: $0.kind.rawValue, image: $0.image.description, tag: $0.tag, digest: $0.digest?.description)
        }
        return (rows.sorted(), report.skipped.map(\.file).sorted())
    }

    @Test func theEngineFindsWhatAnIndependentYAMLReaderFinds() async throws {
        let independent = try await Self.independentReading(of: Self.corpus)
        let engine = try Self.engineReading(of: Self.corpus)
        #expect(independent.rows.count >= 35, "the corpus should hold the shapes it was written for")
        #expect(engine.rows == independent.rows, "only the engine: \(Set(engine.rows).subtracting(independent.rows).sorted()); only PyYAML: \(Set(independent.rows).subtracting(engine.rows).sorted())")
        #expect(engine.skipped == independent.skipped)
        #expect(independent.skipped == ["charts/redis/templates/master.yaml"])
        // The CRD (schema keys `image:` and `repository:`, prose) is screened out, not parsed.
        let report = try Workspace(root: Self.corpus.path).scan(image: nil)
        #expect(report.filesParsed == report.filesConsidered - 1, "every file but the CRD is parsed")
    }

    @Test func bumpingEveryImageToALookAlikeTagChangesOnlyTagBytes() async throws {
        let work = try GoldenDirectory.copyToTemporary(Self.corpus)
        defer { try? FileManager.default.removeItem(at: work) }
        let before = try await Self.independentReading(of: work)
        // Images pinned by digest somewhere are left out: a tag-only bump drops a stale digest
        // there (other bytes than the tag, on purpose; `tag-drops-stale-digest` covers it).
        let byImage = Dictionary(grouping: before.rows, by: \.image)
        let bumped = byImage.filter { _, rows in rows.contains { $0.tag != nil } && rows.allSatisfy { $0.digest == nil } }.keys.sorted()
        #expect(bumped.count >= 20)
        var newTag: [String: String] = [:]
        for (index, image) in bumped.enumerated() {
            let tag = Self.newTags[index % Self.newTags.count]
            newTag[image] = tag
            let report = try Workspace(root: work.path).bump(BumpRequest(ImageReference(parsing: "\(image):\(tag)")), dryRun: false)
            #expect(report.refused.isEmpty, "\(image): \(report.refused)")
            #expect(!report.changedFiles.isEmpty, "\(image):\(tag) changed nothing")
        }

        // PyYAML reads the same references, now with the new tags, every one a string.
        let after = try await Self.independentReading(of: work)
        let expected = before.rows.map { row in
            guard let tag = newTag[row.image], row.tag != nil else { return row }
            return Row(file: row.file, line: row.line, kind: row.kind, image: row.image, tag: tag, digest: row.digest)
        }.sorted()
        #expect(after.rows == expected, "only expected: \(Set(expected).subtracting(after.rows).sorted()); only read: \(Set(after.rows).subtracting(expected).sorted())")
        #expect(after.nonStringTags.isEmpty, "\(after.nonStringTags)")
        #expect(try Self.engineReading(of: work).rows == expected)

        // No byte changed but the tag (and the quotes a look-alike tag needs).
        let oldTags = Dictionary(before.rows.compactMap { row in row.tag.map { ("\(row.file):\(row.line)", $0) } }, uniquingKeysWith: { first, _ in first })
        for file in GoldenDirectory.files(under: Self.corpus) {
            let original = try String(contentsOf: Self.corpus.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            let written = try String(contentsOf: work.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            try #require(original.count == written.count, "\(file): lines added or removed")
            for (index, (old, new)) in zip(original, written).enumerated() where old != new {
                let place = "\(file):\(index + 1)"
                let row = try #require(expected.first { "\($0.file):\($0.line)" == place && newTag[$0.image] != nil }, "\(place) changed without a reference: \(new)")
                #expect(Self.onlyTagChanged(old, new, from: try #require(oldTags[place]), to: try #require(row.tag)), "\(place): \(old) → \(new)")
            }
        }
    }

    /// Whether `new` is `old` with one occurrence of `from` replaced by `to`, quotes aside.
    static func onlyTagChanged(_ old: String, _ new: String, from: String, to: String) -> Bool {
        func unquoted(_ text: String) -> String { text.filter { $0 != "\"" && $0 != "'" } }
        let old = unquoted(old)
        let new = unquoted(new)
        var searchStart = old.startIndex
        while let range = old.range(of: from, range: searchStart..<old.endIndex) {
            if old.replacingCharacters(in: range, with: to) == new { return true }
            searchStart = old.index(after: range.lowerBound)
        }
        return false
    }
}
