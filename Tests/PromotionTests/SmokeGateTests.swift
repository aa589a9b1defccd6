import Foundation
import Promotion
import TestSupport
import Testing

/// Smoke gates against a real local HTTP app whose `/version` answers the deployed tag.
@Suite struct SmokeGateTests {
    @Test func passesOnceTheNewVersionServes() async throws {
        let app = try DeployedApp(running: "1.4.2")
        let gate = SmokeGate(
            checks: [
                SmokeCheck(url: app.url + "/version", jsonField: "version"), SmokeCheck(url: app.url + "/", bodyContains: "api {tag}"),
            ],
            timeout: .seconds(20), interval: .milliseconds(50))
        // The rollout finishes after the gate has seen the old version at least once.
        app.roll(afterNextAnswerTo: "1.4.3")
        let outcome = await gate.run(tag: "1.4.3")
        guard case .passed(let attempts) = outcome else {
            Issue.record("expected to pass: \(outcome)")
            return
        }
        #expect(attempts > 1)
    }

    @Test func failsWithTheLastReasonWhenTimeRunsOut() async throws {
        let app = try DeployedApp(running: "1.4.2")
        let stale = await SmokeGate(
            checks: [SmokeCheck(url: app.url + "/version", jsonField: "version")], timeout: .seconds(1), interval: .milliseconds(50)
        ).run(tag: "1.5.0")
        #expect(stale == .failed(attempts: stale.attempts, reason: "\(app.url)/version says version = 1.4.2, expected 1.5.0"))

        let missing = await SmokeGate(checks: [SmokeCheck(url: app.url + "/health")], timeout: .zero).run(tag: "1.4.2")
        #expect(missing == .failed(attempts: 1, reason: "\(app.url)/health answered 404, expected 200"))

        let nested = await SmokeGate(
            checks: [SmokeCheck(url: app.url + "/version", jsonField: "build.number", equals: "42")], timeout: .zero
        )
        .run(tag: "x")
        #expect(nested == .passed(attempts: 1))
        let absent = await SmokeGate(checks: [SmokeCheck(url: app.url + "/version", jsonField: "build.tag")], timeout: .zero).run(tag: "x")
        #expect(absent == .failed(attempts: 1, reason: "\(app.url)/version answered JSON without build.tag"))

        let down = await SmokeGate(checks: [SmokeCheck(url: "http://127.0.0.1:1/version")], timeout: .zero).run(tag: "1.4.2")
        guard case .failed(_, let reason) = down else {
            Issue.record("a closed port passed")
            return
        }
        #expect(reason.hasPrefix("http://127.0.0.1:1/version did not answer: "))
    }
}

extension SmokeGate.Outcome {
    var attempts: Int {
        switch self {
        case .passed(let attempts), .failed(let attempts, _): attempts
        }
    }
}
