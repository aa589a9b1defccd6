import Foundation
import Synchronization
import Testing

@testable import Intake

/// Readiness probes are single-flight: while a round of checks runs (a repository that takes
/// its time), every other probe waits for that round instead of starting its own.
@Suite struct ReadinessTests {
    /// A check that holds until opened, counting how often it ran.
    final class Gate: Sendable {
        let runs = Atomic<Int>(0)
        let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])
        let opened = Atomic<Bool>(false)

        func pass() async {
            runs.add(1, ordering: .relaxed)
            await withCheckedContinuation { continuation in
                let resumeNow = waiting.withLock { list -> Bool in
                    if opened.load(ordering: .relaxed) { return true }
                    list.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }

        func open() {
            opened.store(true, ordering: .relaxed)
            for continuation in waiting.withLock({ list in defer { list.removeAll() }; return list }) { continuation.resume() }
        }
    }

    @Test func probesDuringARoundWaitForItAndStartNoOther() async throws {
        let gate = Gate()
        let readiness = Readiness(checks: [("slow repo", { await gate.pass(); return nil })], maximumAge: .seconds(60))
        let probes = (0..<5).map { _ in Task { await readiness.report() } }
        // Every probe has called in (one is running the checks, four wait for it).
        let deadline = ContinuousClock.now + .seconds(10)
        while await readiness.callers < 5, ContinuousClock.now < deadline { await Task.yield() }
        #expect(await readiness.callers == 5)
        gate.open()
        for probe in probes { #expect(await probe.value.ready) }
        #expect(gate.runs.load(ordering: .relaxed) == 1)
        #expect(await readiness.rounds == 1)
    }
}
