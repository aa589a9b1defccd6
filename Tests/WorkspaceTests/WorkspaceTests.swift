import Foundation
import ImageReference
import Manifests
import TestSupport
import Testing
import Workspace

@Suite struct WorkspaceTests {
    static let api = try! ImageName(parsing: "ghcr.io/acme/api")

    func write(_ text: String, to path: String, in root: URL) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @Test func symlinksAreNeverFollowed() throws {
        let outside = try TemporaryDirectory.make()
        let root = try TemporaryDirectory.make()
        defer {
            try? FileManager.default.removeItem(at: outside)
            try? FileManager.default.removeItem(at: root)
        }
        try write("image: ghcr.io/acme/api:1.0.0\n", to: "secret.yaml", in: outside)
        try write("image: ghcr.io/acme/api:1.0.0\n", to: "inside.yaml", in: root)
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("link.yaml").path, withDestinationPath: outside.appendingPathComponent("secret.yaml").path)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("linkdir").path, withDestinationPath: outside.path)

        let workspace = Workspace(root: root.path)
        let scan = try workspace.scan(image: Self.api)
        #expect(scan.references.map(\.file) == ["inside.yaml"])
        #expect(scan.skipped.contains { $0.file == "link.yaml" && $0.reason.contains("symbolic link") })

        let request = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:2.0.0"))
        _ = try workspace.bump(request, dryRun: false)
        #expect(try String(contentsOf: outside.appendingPathComponent("secret.yaml"), encoding: .utf8) == "image: ghcr.io/acme/api:1.0.0\n")
        #expect(try String(contentsOf: root.appendingPathComponent("inside.yaml"), encoding: .utf8) == "image: ghcr.io/acme/api:2.0.0\n")
    }

    @Test func aReferenceThatCannotBeWrittenIsReportedAndTheOthersAreWritten() throws {
        let root = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: root) }
        // An escaped value: its bytes are not the tag's, so no surgical edit exists.
        try write("containers:\n  - image: \"ghcr.io/acme/api:1.0.\\u0030\"\n  - image: ghcr.io/acme/api:1.0.0\n", to: "a.yaml", in: root)
        try write("image: ghcr.io/acme/api:1.0.0\n", to: "b.yaml", in: root)
        let request = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.0.1"))
        let report = try Workspace(root: root.path).bump(request, dryRun: false)
        #expect(report.refused.map(\.file) == ["a.yaml"])
        #expect(report.refused.first?.reason.hasPrefix("line 2: its value is not written on one line byte for byte") == true)
        // The file's other reference and the other file are written; the escaped bytes stay.
        #expect(try String(contentsOf: root.appendingPathComponent("a.yaml"), encoding: .utf8)
            == "containers:\n  - image: \"ghcr.io/acme/api:1.0.\\u0030\"\n  - image: ghcr.io/acme/api:1.0.1\n")
        #expect(try String(contentsOf: root.appendingPathComponent("b.yaml"), encoding: .utf8) == "image: ghcr.io/acme/api:1.0.1\n")
    }

    @Test func largeFilesAreSkippedWithTheReason() throws {
        let root = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: root) }
        try write("image: ghcr.io/acme/api:1.0.0\n" + String(repeating: "# padding\n", count: 200), to: "big.yaml", in: root)
        try write("image: ghcr.io/acme/api:1.0.0\n", to: "small.yaml", in: root)
        let scan = try Workspace(root: root.path, options: WorkspaceOptions(maximumFileSize: 100)).scan(image: Self.api)
        #expect(scan.references.map(\.file) == ["small.yaml"])
        #expect(scan.skipped.map(\.reason) == ["larger than 100 bytes"])
    }

    @Test func gitDirectoryIsNotScanned() throws {
        let root = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: root) }
        try write("image: ghcr.io/acme/api:1.0.0\n", to: ".git/hooks/x.yaml", in: root)
        try write("image: ghcr.io/acme/api:1.0.0\n", to: "a.yaml", in: root)
        #expect(try Workspace(root: root.path).scan(image: Self.api).references.map(\.file) == ["a.yaml"])
    }

    @Test func missingDirectoryIsAClearError() {
        #expect(throws: WorkspaceError.self) { try Workspace(root: "/nonexistent/imagebump").scan(image: Self.api) }
        do {
            _ = try Workspace(root: "/nonexistent/imagebump").scan(image: Self.api)
        } catch {
            #expect(error.code == .notADirectory)
            #expect(error.description.hasPrefix("/nonexistent/imagebump: it is not a directory"))
        }
    }

    @Test func fileModesAreKept() throws {
        let root = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: root) }
        try write("image: ghcr.io/acme/api:1.0.0\n", to: "run.yaml", in: root)
        let path = root.appendingPathComponent("run.yaml").path
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: path)
        _ = try Workspace(root: root.path).bump(try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:2.0.0")), dryRun: false)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o750)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["run.yaml"])  // no temporary left behind
    }

    @Test func scanAllListsEveryImageAndReportsTemplates() throws {
        let root = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: root) }
        try write("a:\n  image: nginx:1.25\nb:\n  image: ghcr.io/acme/api:1.0.0\n", to: "a.yaml", in: root)
        try write("image: {{ .Values.image }}\n", to: "chart/templates/d.yaml", in: root)
        try write("plain text, no markers\n", to: "README.md", in: root)
        let scan = try Workspace(root: root.path).scan(image: nil)
        #expect(scan.references.map(\.image.description) == ["docker.io/library/nginx", "ghcr.io/acme/api"])
        #expect(scan.skipped.map(\.file) == ["chart/templates/d.yaml"])
        #expect(scan.filesConsidered == 3)
        #expect(scan.filesParsed == 2)
    }
}
