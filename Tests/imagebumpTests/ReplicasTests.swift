import Foundation
import HTTPClient
import Journal
import Postgres
import Synchronization
import TestSupport
import Testing

extension HeavyPeers {
    /// Three `imagebump serve` replicas on one PostgreSQL journal and one bare repository: a
    /// burst of 3,000 events spread round-robin over them (a sender whose replica is gone sends
    /// to the next, as a CI job retries); `kill -9` of a follower mid-burst, and of the lease
    /// holder right after one of its pushes. Every accepted event ends done, superseded or
    /// skipped; none is lost, none applied twice; the final tree is byte-exact.
    @Suite struct ReplicasTests {
        static let events = 3_000

        @Test func threeReplicasOneJournalKillsMidBurstEveryEventOnce() async throws {
            let location = try await JournalBackend.postgres.freshLocation()
            guard case .postgres(let url, let password) = location else { return }
            let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
            let replicas = try await Self.start(3, remote: remote, journal: location)
            defer { for replica in replicas { Foundation.kill(replica.process.processIdentifier, SIGKILL) } }
            let leader = try await Self.leader(of: replicas, within: .seconds(30))
            let follower = try #require(replicas.first { $0 !== leader })

            // The burst: round-robin; a sender whose replica does not answer 202 sends to the next.
            let counts = BurstCounts()
            let burst = Task {
                await withTaskGroup(of: Void.self) { group in
                    for sender in 0..<24 {
                        group.addTask {
                            for number in stride(from: sender + 1, through: Self.events, by: 24) {
                                for offset in 0..<replicas.count * 3 {
                                    let replica = replicas[(number + offset) % replicas.count]
                                    guard replica.alive.load(ordering: .relaxed),
                                        let (status, id) = try? await ServeProcess.postEvent("ghcr.io/acme/api:3.0.\(number)", port: replica.port),
                                        status == 202
                                    else { continue }
                                    counts.accepted.withLock { $0[number] = id }
                                    if replica === follower { counts.acceptedByFollower.withLock { $0.append(id) } }
                                    counts.answered.add(1, ordering: .relaxed)
                                    break
                                }
                            }
                        }
                    }
                }
            }
            // A follower dies a third of the way through.
            while counts.answered.load(ordering: .relaxed) < Self.events / 3 { try await Task.sleep(for: .milliseconds(10)) }
            await follower.kill()
            // The lease holder dies right after one of its pushes.
            let before = try Self.tip(remote)
            while try Self.tip(remote) == before { try await Task.sleep(for: .milliseconds(5)) }
            await leader.kill()
            let killed = ContinuousClock.now
            let survivor = try #require(replicas.first { $0.alive.load(ordering: .relaxed) })
            _ = try await Self.leader(of: [survivor], within: .seconds(30))
            let takeover = ContinuousClock.now - killed
            await burst.value
            let ids = counts.accepted.withLock { $0 }
            #expect(ids.count == Self.events, "every event was accepted by some replica")

            // Every accepted event ends; the journal is read straight from PostgreSQL.
            let database = try PostgresConnection(url: url, password: password)
            let deadline = ContinuousClock.now + .seconds(180)
            var open = -1
            while ContinuousClock.now < deadline {
                let count = try database.execute("SELECT count(*) FROM events WHERE status IN ('received','committed')").first?.first ?? nil
                open = count.flatMap { Int($0) } ?? -1
                if open == 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(open == 0, "\(open) events still unfinished")
            let statuses = Dictionary(
                try database.execute("SELECT id, status FROM events").compactMap { row in row[0].map { ($0, row[1] ?? "") } },
                uniquingKeysWith: { first, _ in first })
            // The survivor's status API shows what the dead follower accepted: the whole cluster's journal.
            let byFollower = try #require(counts.acceptedByFollower.withLock { $0.first })
            let shown = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(survivor.adminPort)/v1/events/\(byFollower)"))
            #expect(shown.status == 200)
            #expect(String(decoding: shown.body, as: UTF8.self).contains(statuses[byFollower] ?? "missing"))
            let ended = Set(ids.values).map { statuses[$0] ?? "missing" }
            #expect(ended.allSatisfy { ["done", "superseded", "skipped"].contains($0) }, "\(Dictionary(grouping: ended, by: { $0 }).mapValues(\.count))")
            // A resend after a lost answer joined its event: no tag is journaled twice.
            let tags = try database.execute("SELECT tag FROM events").compactMap { $0[0] }
            #expect(tags.count == Set(tags).count, "\(tags.count) events for \(Set(tags).count) tags")

            // None applied twice; the tree says the newest tag, and nothing else changed.
            let trailers = try GitFixture.git(["--git-dir", remote.path, "log", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"])
                .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            #expect(Set(trailers).count == trailers.count, "an event in two commits")
            #expect(Set(trailers).isSubset(of: Set(ids.values)))
            for file in ["values.yaml", "deployment.yaml"] {
                let original = try String(
                    contentsOf: CommandLineTests.repo.appendingPathComponent("envs/dev/api/\(file)"), encoding: .utf8)
                // Byte for byte (untrimmed), through the git CLI.
                let written = try await Command.succeeding("/usr/bin/git", ["--git-dir", remote.path, "show", "main:envs/dev/api/\(file)"])
                #expect(written == original.replacingOccurrences(of: "1.4.1", with: "3.0.\(Self.events)"), "\(file):\n\(written)")
            }
            let seconds = Double(takeover.components.seconds) + Double(takeover.components.attoseconds) / 1e18
            print("replicas: \(Self.events) events over 3 replicas, \(trailers.count) commits; lane takeover after kill -9 of the lease holder: \(String(format: "%.1f", seconds)) s")
        }

        /// A lease holder paused (SIGSTOP: a long GC pause, a frozen VM) while another replica takes
        /// the lease over and writes: resumed, it must not push what it had in hand — it finds the
        /// lease gone and stops (exit 3); every event is written once, by the new holder.
        @Test func aPausedHolderThatLostItsLeaseDoesNotPushWhenItResumes() async throws {
            let location = try await JournalBackend.postgres.freshLocation()
            let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
            let replicas = try await Self.start(2, remote: remote, journal: location)
            defer { for replica in replicas { Foundation.kill(replica.process.processIdentifier, SIGKILL) } }
            let holder = try await Self.leader(of: replicas, within: .seconds(30))
            let other = try #require(replicas.first { $0 !== holder })
            // The holder is paused with events journaled and in its hands (its lanes' batch window).
            let first = try await ServeProcess.postEvent("ghcr.io/acme/api:4.0.1", port: holder.port)
            #expect(first.status == 202)
            Foundation.kill(holder.process.processIdentifier, SIGSTOP)
            let paused = ContinuousClock.now
            _ = try await Self.leader(of: [other], within: .seconds(30))
            let takeover = ContinuousClock.now - paused
            let second = try await ServeProcess.postEvent("ghcr.io/acme/api:4.0.2", port: other.port)
            #expect(second.status == 202)
            // The new holder finishes both (the paused one's event from the journal; in one batch
            // the newer tag supersedes the older) and writes the newer.
            let deadline = ContinuousClock.now + .seconds(60)
            var statuses: [String] = []
            while ContinuousClock.now < deadline {
                statuses = []
                for id in [first.id, second.id] {
                    let answer = try await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(other.adminPort)/v1/events/\(id)"))
                    statuses.append(((try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any])?["status"] as? String ?? "")
                }
                if statuses.allSatisfy({ ["done", "superseded", "skipped", "failed"].contains($0) }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(["done", "superseded"].contains(statuses.first ?? ""), "\(statuses)")
            #expect(statuses.last == "done", "\(statuses)")
            #expect(try await Self.trailers(remote).contains(second.id))
            let values = try await Command.succeeding("/usr/bin/git", ["--git-dir", remote.path, "show", "main:envs/dev/api/values.yaml"])
            #expect(values.contains("tag: \"4.0.2\""), "\(values)")
            let tipBefore = try Self.tip(remote)
            // Resumed: it finds the lease gone and stops, without pushing.
            Foundation.kill(holder.process.processIdentifier, SIGCONT)
            let process = holder.process
            let status = try await blocking { () -> Int32 in
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 3, "the old holder stops when it finds its lease gone")
            #expect(try Self.tip(remote) == tipBefore, "the old holder pushed after it lost the lease")
            let after = try await Self.trailers(remote)
            #expect(Set(after).count == after.count, "an event in two commits: \(after)")
            let seconds = Double(takeover.components.seconds) + Double(takeover.components.attoseconds) / 1e18
            print("replicas: a paused holder's lease taken over after \(String(format: "%.1f", seconds)) s; resumed, it stopped with exit 3 without pushing")
        }

        /// A holder stopped gracefully (SIGTERM: a rolling update, a node drain) gives the lease up
        /// once its work is drained: the other replica need not wait for the lease to run out.
        @Test func aHolderStoppingGracefullyGivesTheLeaseUp() async throws {
            let location = try await JournalBackend.postgres.freshLocation()
            guard case .postgres(let url, let password) = location else { return }
            let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
            let replicas = try await Self.start(2, remote: remote, journal: location)
            defer { for replica in replicas { Foundation.kill(replica.process.processIdentifier, SIGKILL) } }
            let holder = try await Self.leader(of: replicas, within: .seconds(30))
            let database = try PostgresConnection(url: url, password: password)
            let name = try #require(try database.execute("SELECT holder FROM leases").first?.first ?? nil)
            Foundation.kill(holder.process.processIdentifier, SIGTERM)
            let process = holder.process
            let status = try await blocking { () -> Int32 in
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0)
            let after = try database.execute("SELECT holder FROM leases").first?.first ?? nil
            #expect(after != name, "the stopped holder still holds the lease: others wait for it to run out")
        }

        /// A promotion approved on a replica without the lease (a Service sent the operator
        /// there): the operation is journaled, the holder carries it out, the tag reaches prd.
        @Test func anApprovalOnAReplicaWithoutTheLeaseMovesThePromotionOn() async throws {
            let location = try await JournalBackend.postgres.freshLocation()
            let remote = try GitFixture.bareRepository(from: CommandLineTests.repo)
            var started: [Replica] = []
            for _ in 0..<2 {
                let state = try TemporaryDirectory.make("imagebump-replica-promotion")
                let config = state.appendingPathComponent("serve.yaml")
                try (try String(contentsOf: CommandLineTests.fixtures.appendingPathComponent("promotion.yaml"), encoding: .utf8)
                    .replacingOccurrences(of: "REMOTE", with: remote.path)
                    .replacingOccurrences(of: "STATE", with: state.appendingPathComponent("state").path)
                    + ServeProcess.journalSection(location, state: state)).write(to: config, atomically: true, encoding: .utf8)
                started.append(Replica(try await ServeProcess.start(config)))
            }
            let replicas = started
            defer { for replica in replicas { Foundation.kill(replica.process.processIdentifier, SIGKILL) } }
            let holder = try await Self.leader(of: replicas, within: .seconds(30))
            let other = try #require(replicas.first { $0 !== holder })
            let admin = "http://127.0.0.1:\(other.adminPort)"
            #expect(try await ServeProcess.postEvent("ghcr.io/acme/api:1.4.2", port: other.port).status == 202)
            let waiting = try await Self.promotion(in: "waiting-for-approval", admin)
            let id = try #require(waiting["id"] as? String)
            let approval = try await CurlClient().send(
                HTTPRequest(method: "POST", url: "\(admin)/v1/promotions/\(id)/approve", headers: [("Authorization", "Bearer \(ServeProcess.adminToken)")]))
            #expect(approval.status == 202, "\(String(decoding: approval.body, as: UTF8.self))")
            let done = try await Self.promotion(in: "done", admin)
            #expect(done["id"] as? String == id)
            let production = try await Command.succeeding("/usr/bin/git", ["--git-dir", remote.path, "show", "main:envs/prd/api/values.yaml"])
            #expect(production.contains("1.4.2"), "\(production)")
        }

        /// The first promotion once it is in `state`, as a replica's status API says.
        static func promotion(in state: String, _ admin: String) async throws -> [String: Any] {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let response = try await CurlClient().send(HTTPRequest(method: "GET", url: "\(admin)/v1/promotions"))
                let list = ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["promotions"] as? [[String: Any]]) ?? []
                if let first = list.first, first["state"] as? String == state { return first }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw GitFixture.Failure(description: "no promotion reached \(state)")
        }

        static func trailers(_ remote: URL) async throws -> [String] {
            try await Command.succeeding(
                "/usr/bin/git", ["--git-dir", remote.path, "log", "--format=%(trailers:key=Imagebump-Event,valueonly)", "main"]
            ).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }

        /// `count` replicas on one journal and one remote, each with a state directory of its own.
        static func start(_ count: Int, remote: URL, journal: JournalLocation) async throws -> [Replica] {
            var started: [Replica] = []
            for _ in 0..<count {
                let config = try ServeProcess.config(remote: remote, state: try TemporaryDirectory.make("imagebump-replica"), journal: journal)
                started.append(Replica(try await ServeProcess.start(config)))
            }
            return started
        }

        /// The replica that reports holding the leader lease.
        static func leader(of replicas: [Replica], within: Duration) async throws -> Replica {
            let deadline = ContinuousClock.now + within
            while ContinuousClock.now < deadline {
                for replica in replicas where await replica.isLeader() { return replica }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw GitFixture.Failure(description: "no replica took the leader lease within \(within)")
        }

        /// The branch's tip as the last push left it (its loose ref; before any push it is packed).
        static func tip(_ remote: URL) throws -> String {
            (try? String(contentsOf: remote.appendingPathComponent("refs/heads/main"), encoding: .utf8)) ?? "packed"
        }
    }
}

/// One `imagebump serve` of ReplicasTests.
final class Replica: Sendable {
    let process: Process
    let port: Int
    let adminPort: Int
    let alive = Atomic<Bool>(true)

    init(_ started: (process: Process, line: String, port: Int, adminPort: Int)) {
        (process, port, adminPort) = (started.process, started.port, started.adminPort)
    }

    func kill() async {
        alive.store(false, ordering: .relaxed)
        Foundation.kill(process.processIdentifier, SIGKILL)
        let process = process
        _ = try? await blocking { process.waitUntilExit() }
    }

    func isLeader() async -> Bool {
        guard alive.load(ordering: .relaxed),
            let metrics = try? await CurlClient().send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(adminPort)/metrics"))
        else { return false }
        return String(decoding: metrics.body, as: UTF8.self).split(separator: "\n").contains { $0 == "imagebump_leader 1" || $0 == "imagebump_leader 1.0" }
    }
}

/// What the burst's senders saw: answers, and the event id each number was accepted as.
final class BurstCounts: Sendable {
    let answered = Atomic<Int>(0)
    let accepted = Mutex<[Int: String]>([:])
    let acceptedByFollower = Mutex<[String]>([])
}
