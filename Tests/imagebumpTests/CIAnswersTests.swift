import Foundation
import HTTPClient
import TestSupport
import Testing

/// What CI's `curl -f` sees from `POST /v1/events`: a typo is an error, never a silent `200`.
@Suite struct CIAnswersTests {
    @Test func aWrongTypeIs400AndAnUnmanagedImage422() async throws {
        let remote = try await blocking { try GitFixture.bareRepository(from: fixturesDirectory().appendingPathComponent("env-repo")) }
        let state = try TemporaryDirectory.make("imagebump-ci-answers")
        let config = try ServeProcess.config(remote: remote, state: state)
        let (process, _, port, _) = try await ServeProcess.start(config)
        defer { kill(process.processIdentifier, SIGKILL) }
        func post(_ body: String) async throws -> (Int, [String: Any]) {
            let response = try await ServeProcess.post(body, port: port)
            return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:])
        }
        let (status, answer) = try await post(#"{"image": "ghcr.io/acme/api", "tag": 1.4}"#)
        #expect(status == 400)
        #expect(answer["detail"] as? String == #"tag must be a string (write "tag": "…", quoted)"#)
        let (unmanaged, why) = try await post(#"{"image": "ghcr.io/acme/apj", "tag": "1.4.2"}"#)
        #expect(unmanaged == 422)
        #expect(why["error"] as? String == "image not managed")
        #expect((why["detail"] as? String)?.contains("ghcr.io/acme/apj is not in images[]") == true)
        let (accepted, _) = try await post(#"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#)
        #expect(accepted == 202)
    }
}
