import Foundation
import Journal
import HTTPClient
import TestSupport

/// `imagebump serve` started as a process on the one-target configuration the serve tests use.
enum ServeProcess {
    static let token = "serve-test-token-0123456789abcdef0123"
    static let adminToken = "serve-test-admin-token-0123456789abcdef"

    /// Writes the configuration: receiver `ci` (generic, `token`), target dev of `remote`.
    /// `journal`: where the service keeps its journal (nil: the SQLite file in the state
    /// directory); a PostgreSQL one's password goes in a file beside the configuration.
    static func config(remote: URL, state: URL, journal: JournalLocation? = nil) throws -> URL {
        let config = state.appendingPathComponent("serve.yaml")
        try """
        \(try journal.map { try journalSection($0, state: state) } ?? "")stateDir: \(state.appendingPathComponent("state").path)
        server: {listen: 127.0.0.1, admin: {token: env:IMAGEBUMP_TEST_ADMIN_TOKEN}}
        workers: {batchWindowMs: 100}
        receivers: [{name: ci, type: generic, secret: env:IMAGEBUMP_TEST_CI_TOKEN}]
        repos: [{name: env, url: \(remote.path)}]
        targets: [{name: dev, repo: env, paths: ["envs/dev/**"], mode: commit}]
        images: [{name: ghcr.io/acme/api, targets: [dev]}]
        """.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    /// The `journal:` line for a PostgreSQL journal (empty for SQLite, the default); the password
    /// goes in a file beside the configuration.
    static func journalSection(_ journal: JournalLocation, state: URL) throws -> String {
        guard case .postgres(let url, let password) = journal else { return "" }
        let passwordFile = state.appendingPathComponent("db-password")
        try (password ?? "").write(to: passwordFile, atomically: true, encoding: .utf8)
        return "journal: {url: \"\(url)\", password: file:\(passwordFile.path)}\n"
    }

    /// Writes a configuration with the tests' receiver (`ci`, generic, `token`) in a new state
    /// directory, `sections` (YAML: workers, git, repos, targets, images) after it.
    static func config(_ prefix: String, _ sections: String) throws -> URL {
        let state = try TemporaryDirectory.make(prefix)
        let config = state.appendingPathComponent("serve.yaml")
        try """
        stateDir: \(state.appendingPathComponent("state").path)
        server: {listen: 127.0.0.1}
        receivers: [{name: ci, type: generic, secret: env:IMAGEBUMP_TEST_CI_TOKEN}]
        \(sections)
        """.write(to: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Starts the service on a free port; returns the process, its first output line
    /// (`listening on HOST:PORT`) and the port.
    /// `log` receives the service's log lines (at `logLevel`); without it they are dropped.
    static func start(_ config: URL, environment extra: [String: String] = [:], logLevel: String = "error", log: URL? = nil) async throws -> (
        process: Process, line: String, port: Int, adminPort: Int
    ) {
        let process = Process()
        process.executableURL = CommandLineTests.binary
        process.arguments = ["serve", "--config", config.path, "--port", "0", "--admin-port", "0", "--log-level", logLevel]
        var environment = ProcessInfo.processInfo.environment
        environment["IMAGEBUMP_TEST_CI_TOKEN"] = token
        environment["IMAGEBUMP_TEST_ADMIN_TOKEN"] = adminToken
        process.environment = environment.merging(extra) { _, new in new }
        let out = Pipe()
        process.standardOutput = out
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        // "listening on HOST:PORT", then "admin on HOST:PORT".
        let lines = try await blocking { () throws -> [String] in
            try (0..<2).map { _ in
                var bytes = Data()
                while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { bytes += byte }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        guard let port = Int(lines[0].split(separator: ":").last ?? ""), let adminPort = Int(lines[1].split(separator: ":").last ?? "") else {
            kill(process.processIdentifier, SIGKILL)
            throw GitFixture.Failure(description: "imagebump serve did not report its ports (got \"\(lines)\")")
        }
        return (process, lines[0], port, adminPort)
    }

    /// POSTs `body` to the service's `/v1/events` with the tests' CI token.
    static func post(_ body: String, port: Int) async throws -> HTTPResponse {
        try await CurlClient().send(
            HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/v1/events", headers: [("Authorization", "Bearer \(token)")],
                body: Array(body.utf8)))
    }

    /// POSTs `{"image": reference}`; the answer's status and the event's id ("" without one).
    static func postEvent(_ reference: String, port: Int) async throws -> (status: Int, id: String) {
        let response = try await post(#"{"image": "\#(reference)"}"#, port: port)
        let events = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["events"] as? [[String: Any]]
        return (response.status, events?.first?["id"] as? String ?? "")
    }
}
