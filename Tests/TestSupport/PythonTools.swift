import Foundation

/// The test tools from PyPI (Selenium, kubernetes-validate, schemathesis) that `scripts/bootstrap`
/// installs, pinned, into the checkout's `.build-venv`.
public enum PythonTools {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The path of a program of the virtual environment (`python`, `kubernetes-validate`, `schemathesis`).
    public static func program(_ name: String) throws -> String {
        let path = root.appendingPathComponent(".build-venv/bin/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw GitFixture.Failure(description: "\(path) is missing: run scripts/bootstrap (scripts/test does) to install the test tools")
        }
        return path
    }
}
