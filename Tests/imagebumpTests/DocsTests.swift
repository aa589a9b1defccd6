import Foundation
import TestSupport
import Testing
import Workers

/// The docs stay true to the code: every metric is explained, every linked file exists.
@Suite struct DocsTests {
    static func read(_ path: String) throws -> String {
        try String(contentsOf: PythonTools.root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func everyMetricIsExplainedInTheOperationsGuide() throws {
        let guide = try Self.read("docs/operations.md")
        for (name, help) in ServiceMetrics.help {
            #expect(guide.contains("| `\(name)` | \(help) |"), "\(name) is not in docs/operations.md's table as ServiceMetrics.help says")
        }
    }

    @Test func everyLocalLinkOfTheReadmeAndDocsExists() throws {
        for file in ["README.md", "docs/operations.md", "docs/registries.md", "docs/forges.md", "docs/ARCHITECTURE.md"] {
            let text = try Self.read(file)
            let directory = URL(fileURLWithPath: file).deletingLastPathComponent().relativePath
            let links = text.matches(of: /\]\(([^)#\s]+)\)/).map { String($0.output.1) }.filter { !$0.hasPrefix("http") }
            for link in links {
                let path = (directory == "." ? "" : directory + "/") + link
                #expect(FileManager.default.fileExists(atPath: PythonTools.root.appendingPathComponent(path).path), "\(file) links \(link)")
            }
        }
    }
}
