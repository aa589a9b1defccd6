import Foundation
import ImageReference
import Manifests
import TestSupport
import Testing
import Workspace

/// Golden directories: `Fixtures/<case>/original/` bumped by `Fixtures/<case>/request` must
/// equal `Fixtures/<case>/expected/` byte for byte, and the scan of `original/` must equal
/// `Fixtures/<case>/references.txt`. Set IMAGEBUMP_UPDATE_GOLDEN=1 to rewrite the goldens
/// (then review the diff before committing).
@Suite struct GoldenBumpTests {
    static let fixtures = fixturesDirectory()
    static let cases =
        (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter {
            FileManager.default.fileExists(atPath: fixtures.appendingPathComponent("\($0)/request").path)
        }.sorted()) ?? []
    static let updating = ProcessInfo.processInfo.environment["IMAGEBUMP_UPDATE_GOLDEN"] == "1"

    /// The request file: the reference on line 1, then `paths GLOB` and `flux POLICY IMAGE` lines.
    struct Case {
        let directory: URL
        let request: BumpRequest
        let options: WorkspaceOptions

        init(_ name: String) throws {
            directory = GoldenBumpTests.fixtures.appendingPathComponent(name)
            let lines = try String(contentsOf: directory.appendingPathComponent("request"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            request = try BumpRequest(ImageReference(parsing: lines[0][0]))
            var options = WorkspaceOptions()
            for words in lines.dropFirst() {
                switch words[0] {
                case "paths": options.paths.append(try PathGlob(words[1]))
                case "flux": options.extraction.fluxPolicies[words[1]] = try ImageName(parsing: words[2])
                default: Issue.record("unknown request line \(words)")
                }
            }
            self.options = options
        }
    }

    @Test func everyCaseIsPresent() {
        #expect(Self.cases.count >= 15, "found \(Self.cases)")
    }

    @Test(arguments: cases)
    func bumpMatchesExpected(name: String) throws {
        let golden = try Case(name)
        let work = try GoldenDirectory.copyToTemporary(golden.directory.appendingPathComponent("original"))
        defer { try? FileManager.default.removeItem(at: work) }
        let report = try Workspace(root: work.path, options: golden.options).bump(golden.request, dryRun: false)

        let expected = golden.directory.appendingPathComponent("expected")
        if Self.updating {
            try? FileManager.default.removeItem(at: expected)
            try FileManager.default.copyItem(at: work, to: expected)
        }
        let differences = GoldenDirectory.differences(actual: work, expected: expected)
        #expect(differences.isEmpty, "\(name):\n\(differences.joined(separator: "\n"))")

        // The same bump again changes nothing: idempotent by construction.
        let again = try Workspace(root: work.path, options: golden.options).bump(golden.request, dryRun: false)
        #expect(again.changedFiles.isEmpty, "\(name): a second bump changed \(again.changedFiles.map(\.file))")
        if !report.changedFiles.isEmpty { #expect(again.isUpToDate) }
    }

    @Test(arguments: cases)
    func scanMatchesExpected(name: String) throws {
        let golden = try Case(name)
        let report = try Workspace(root: golden.directory.appendingPathComponent("original").path, options: golden.options)
            .scan(image: golden.request.image)
        var lines = report.references.map(Self.describe)
        lines += report.skipped.map { "skipped \($0.file): \($0.reason)" }
        lines += report.problems.map { "problem \($0)" }
        let actual = lines.joined(separator: "\n") + "\n"
        let file = golden.directory.appendingPathComponent("references.txt")
        if Self.updating { try actual.write(to: file, atomically: true, encoding: .utf8) }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(actual == expected, "\(name): scan differs\n--- expected\n\(expected)--- actual\n\(actual)")
    }

    static func describe(_ reference: Reference) -> String {
        let value = ImageReference(name: reference.image, tag: reference.tag, digest: reference.digest)
        return "\(reference.file):\(reference.line):\(reference.column) name@\(reference.nameLine) \(reference.kind.rawValue) \(value)"
            + (reference.isEditable ? "" : " (reported only)")
    }

    @Test func dryRunWritesNothing() throws {
        let golden = try Case("kubernetes-workloads")
        let work = try GoldenDirectory.copyToTemporary(golden.directory.appendingPathComponent("original"))
        defer { try? FileManager.default.removeItem(at: work) }
        let report = try Workspace(root: work.path).bump(golden.request, dryRun: true)
        #expect(!report.changedFiles.isEmpty)
        #expect(GoldenDirectory.differences(actual: work, expected: golden.directory.appendingPathComponent("original")).isEmpty)
    }
}
