import Foundation
import TestSupport
import Testing

extension HeavyPeers {
    /// `docs/openapi.yaml` against a running `imagebump serve`: schemathesis (PyPI) generates
    /// requests for every operation of each listener and checks every answer against the
    /// description (status codes, content types, headers, bodies, the error shape, negative data
    /// rejected, undeclared methods refused).
    ///
    /// Checks left out, each for a reason: `positive_data_acceptance` (whether an image is accepted
    /// depends on the configuration's images[], which a schema cannot say); `missing_required_header`
    /// and `ignored_auth` (after repeated failed authentications from one address the answer is 429,
    /// by design — AuthenticationLimitTests cover it); on the public listener `allow_header_conformance`
    /// (one path, `/v1/events`, has GET on the admin listener and POST on the public one: each
    /// listener's `Allow` names its own). `POST /v1/journal/backup` is not fuzzed: it writes files
    /// (RetentionAndBackupTests and JournalCommandTests cover it).
    @Suite(.serialized) struct OpenAPITests {
        @Test(arguments: ["public", "admin"])
        func everyAnswerMatchesTheDescription(_ listener: String) async throws {
            let remote = try await blocking { try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo")) }
            let config = try ServeProcess.config(remote: remote, state: try TemporaryDirectory.make("imagebump-openapi"))
            let (process, _, port, adminPort) = try await ServeProcess.start(config)
            defer { kill(process.processIdentifier, SIGKILL) }
            let spec = PythonTools.root.appendingPathComponent("docs/openapi.yaml").path
            let url = listener == "public" ? "http://127.0.0.1:\(port)" : "http://127.0.0.1:\(adminPort)"
            let token = listener == "public" ? ServeProcess.token : ServeProcess.adminToken
            let excluded =
                ["positive_data_acceptance", "missing_required_header", "ignored_auth"] + (listener == "public" ? ["allow_header_conformance"] : [])
            let reports = try TemporaryDirectory.make("imagebump-schemathesis")
            let result = try await blocking {
                try Command.run(
                    try PythonTools.program("schemathesis"),
                    [
                        "run", spec, "--url", url, "--include-tag", listener, "--exclude-operation-id", "backupJournal", "-H",
                        "Authorization: Bearer \(token)", "--checks", "all", "--exclude-checks", excluded.joined(separator: ","),
                        "--max-examples", "25", "--seed", "20261201", "--request-timeout", "10", "--report-dir", reports.path,
                        "--no-color",
                    ], in: reports, environment: ["HOME": reports.path, "PATH": "/usr/bin:/bin", "SCHEMATHESIS_TELEMETRY": "false"])
            }
            #expect(result.status == 0, "\(result.stdout.suffix(6000))\(result.stderr.suffix(2000))")
            #expect(result.stdout.contains("passed"))
        }
    }
}
