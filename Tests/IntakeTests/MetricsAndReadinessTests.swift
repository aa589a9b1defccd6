import HTTPServer
import Foundation
import HTTPClient
import Intake
import Journal
import Pipeline
import Prometheus
import TestSupport
import Testing
import Workers

/// `GET /metrics` in Prometheus's text format and `GET /readyz` with its checks.
@Suite struct MetricsAndReadinessTests {
    @Test func metricsCountDeliveriesRequestsAndWriteBacks() async throws {
        let registry = PrometheusCollectorRegistry()
        let service = try IntakeEndToEndTests.Service(
            metrics: ServiceMetrics(factory: PrometheusMetricsFactory(registry: registry), exposition: { registry.emitToBuffer() }))
        defer { service.server.shutdown(within: .seconds(2)) }
        let accepted = try await service.post("/v1/events", #"{"image": "ghcr.io/acme/api", "tag": "1.4.2"}"#)
        let id = try #require(
            (((try JSONSerialization.jsonObject(with: Data(accepted.body)) as? [String: Any])?["events"] as? [[String: Any]])?.first?["id"])
                as? String)
        #expect(try await service.waitUntilSettled(id)["status"] as? String == "done")
        #expect(try await service.post("/v1/events", "{}", headers: []).status == 401)

        let response = try await CurlClient().send(HTTPRequest(method: "GET", url: service.adminURL + "/metrics"))
        #expect(response.status == 200)
        #expect(response.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = response.bodyText
        for line in [
            #"imagebump_deliveries_total{receiver="ci",outcome="accepted"} 1"#,
            #"imagebump_deliveries_total{receiver="ci",outcome="unauthorized"} 1"#,
            #"imagebump_http_requests_total{route="events",status="202"} 1"#,
            #"imagebump_writebacks_total{target="dev",outcome="pushed"} 1"#,
            #"imagebump_events_finished_total{status="done"} 1"#,
            "# TYPE imagebump_writeback_duration_seconds histogram",
            "# TYPE imagebump_pending_jobs gauge",
        ] {
            #expect(text.contains(line + "\n"), "missing \(line) in:\n\(text)")
        }
    }

    @Test func readyWhenTheJournalWritesAndTheRepositoryAnswers() async throws {
        let service = try IntakeEndToEndTests.Service()
        defer { service.server.shutdown(within: .seconds(2)) }
        let response = try await CurlClient().send(HTTPRequest(method: "GET", url: service.url + "/readyz"))
        #expect(response.status == 200)
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(body?["status"] as? String == "ready")
        #expect(body?["checks"] as? [String: String] == ["journal": "ok", "repo env": "ok"])
    }

    @Test func notReadyNamesTheRepositoryThatDoesNotAnswer() async throws {
        let state = try TemporaryDirectory.make("imagebump-ready")
        let journal = try Journal(testing: state.appendingPathComponent("journal.sqlite").path)
        defer { journal.close() }
        let missing = GitTarget(
            name: "dev", repository: "gone", url: state.appendingPathComponent("missing.git").path, branch: "main", paths: [], mode: .commit
        )
        let closedPort = GitTarget(
            name: "acc", repository: "offline", url: "http://127.0.0.1:1/env.git", branch: "main", paths: [], mode: .commit)
        let report = await Readiness(journal: journal, targets: [missing, closedPort]).report()
        #expect(report.ready == false)
        #expect(report.checks["journal"] == "ok")
        #expect(report.checks["repo gone"]?.contains("missing.git is not reachable") == true, "\(report.checks)")
        #expect(report.checks["repo offline"]?.contains("http://127.0.0.1:1/env.git is not reachable") == true, "\(report.checks)")
    }
}
