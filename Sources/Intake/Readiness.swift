import Foundation
import Git
import Journal
import Pipeline
import Runtime

/// Whether the service can do its work now: the journal takes writes and every environment
/// repository answers (connect and list its references, with the target's credentials).
/// Results are kept for `maximumAge`, so probes do not follow every `GET /readyz`.
public actor Readiness {
    /// One check's name and its outcome: nil when fine, else why not.
    public typealias Check = @Sendable () async -> String?

    private let checks: [(name: String, run: Check)]
    private let maximumAge: Duration
    private var last: (at: ContinuousClock.Instant, results: [String: String?])?

    public init(checks: [(name: String, run: Check)], maximumAge: Duration = .seconds(5)) {
        self.checks = checks
        self.maximumAge = maximumAge
    }

    /// The journal check and one probe per repository of `targets`.
    public init(journal: Journal, targets: [GitTarget], maximumAge: Duration = .seconds(5)) {
        var checks: [(name: String, run: Check)] = [
            (
                "journal",
                {
                    do { try await journal.checkWritable() } catch { return "the journal cannot be written: \(error)" }
                    return nil
                }
            )
        ]
        var seen: Set<String> = []
        for target in targets where seen.insert(target.repository).inserted {
            checks.append(
                (
                    "repo \(target.repository)",
                    {
                        await runBlocking {
                            do { _ = try GitRepository.probe(url: target.url, credentials: target.credentials) } catch {
                                return "\(target.url) is not reachable: \(error)"
                            }
                            return nil
                        }
                    }
                ))
        }
        self.init(checks: checks, maximumAge: maximumAge)
    }

    /// Every check's outcome ("ok" or the reason), running them again when the last results are too old.
    /// Single-flight: probes arriving while the checks run wait for that round, never start
    /// their own (a probe storm against a hung repository would otherwise pile up checks).
    public func report() async -> (ready: Bool, checks: [String: String]) {
        callers += 1
        if let last, ContinuousClock.now - last.at < maximumAge { return Self.summary(last.results) }
        if let running { return Self.summary(await running.value) }
        let checks = self.checks
        let round = Task { () -> [String: String?] in
            var results: [String: String?] = [:]
            await withTaskGroup(of: (String, String?).self) { group in
                for check in checks { group.addTask { (check.name, await check.run()) } }
                for await (name, outcome) in group { results[name] = outcome }
            }
            return results
        }
        running = round
        roundCount += 1
        let results = await round.value
        running = nil
        last = (ContinuousClock.now, results)
        return Self.summary(results)
    }

    /// The round of checks under way, if one is.
    private var running: Task<[String: String?], Never>?

    /// How many rounds of checks have started, and how many calls came (tests watch them).
    var rounds: Int { roundCount }
    private var roundCount = 0
    private(set) var callers = 0

    private static func summary(_ results: [String: String?]) -> (ready: Bool, checks: [String: String]) {
        (results.values.allSatisfy { $0 == nil }, results.mapValues { $0 ?? "ok" })
    }
}
