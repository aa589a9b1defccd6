import Dispatch
import Foundation
import Journal
import Logging
import Synchronization

/// Leader election for replicas sharing one PostgreSQL journal, as Kubernetes controllers do it
/// (a lease with a holder and an expiry, renewed while held): every replica takes deliveries and
/// answers the status API; only the lease holder runs the workers, promotions and pollers, so
/// exactly one replica writes to the environment repositories at a time.
///
/// The lease is a row (`leases`): its holder, a fencing token that grows each time the lease
/// changes hands, and an expiry in the database's own clock (replicas' clocks never compare).
/// A holder renews every ``renewEvery``; one that could not renew for ``ttl`` (paused,
/// partitioned, dead) has lost it, and another replica takes it with the next token. Before each
/// push the holder proves, in the database, that the lease is still its own with its token
/// (``fence()``); the push's compare-and-swap on the branch is the last guard, never the only one.
public final class LeaderLease: Sendable {
    /// The lease's row in `leases`.
    public static let name = "leader"
    /// The `leases` table (feature `cluster`), and the index that lets a delivery be found by id
    /// across replicas.
    package static let schema = JournalSchema(
        feature: "cluster",
        migrations: [
            { database in
                try database.execute(
                    """
                    CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, token INTEGER NOT NULL, expires_ms INTEGER NOT NULL);
                    CREATE INDEX IF NOT EXISTS events_delivery_id ON events(delivery_id) WHERE delivery_id IS NOT NULL;
                    """)
            }
        ])

    /// This replica's name in the lease (host, process, a random part: a restarted process is a
    /// new holder).
    public let holder: String
    public let ttl: Duration
    public let renewEvery: Duration
    let journal: Journal
    let logger: Logger
    /// The token while this replica holds the lease, and until when (its own clock, counted
    /// from before the renewal was sent: never later than the database's expiry).
    private let held = Mutex<(token: Int64, until: ContinuousClock.Instant)?>(nil)

    public init(journal: Journal, holder: String, ttl: Duration = .seconds(10), renewEvery: Duration? = nil, logger: Logger) {
        self.journal = journal
        self.holder = holder
        self.ttl = ttl
        self.renewEvery = renewEvery ?? ttl / 5
        self.logger = logger
    }

    /// `HOST-PID-RANDOM`: unique per process.
    public static func holderName() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The fencing token while this replica holds the lease.
    public var token: Int64? {
        held.withLock { state in
            guard let state, ContinuousClock.now < state.until else { return nil }
            return state.token
        }
    }

    public var isLeader: Bool { token != nil }

    /// One attempt to take the lease (free, expired, or already this replica's) or to renew it;
    /// true when this replica holds it afterwards.
    @discardableResult
    public func tryAcquire() async throws(DatabaseError) -> Bool {
        let sent = ContinuousClock.now
        let (holder, milliseconds) = (holder, Self.milliseconds(ttl))
        let token: Int64? = try await journal.submitAlone { database throws(DatabaseError) in
            try database.prepare(
                """
                INSERT INTO leases (name, holder, token, expires_ms) VALUES ('leader', ?1, 1, \(Self.now) + ?2)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms,
                  token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END
                WHERE leases.holder = excluded.holder OR leases.expires_ms < \(Self.now)
                RETURNING token
                """
            ).run([.text(holder), .integer(milliseconds)]).first?.first?.integer
        }
        held.withLock { $0 = token.map { ($0, sent + ttl) } }
        return token != nil
    }

    /// Whether the database still names this replica the holder with the token it was given, and
    /// the lease has not expired: called before each push.
    public func stillHeld() async -> Bool {
        guard let token else { return false }
        let holder = holder
        let found = try? await journal.submitAlone { database throws(DatabaseError) in
            try database.prepare("SELECT 1 FROM leases WHERE name = 'leader' AND holder = ?1 AND token = ?2 AND expires_ms > \(Self.now)")
                .run([.text(holder), .integer(token)]).count
        }
        return found == 1
    }

    /// Gives the lease up (a replica stopping gracefully, its work drained): another replica
    /// takes it at its next attempt instead of waiting for it to run out.
    public func release() async {
        guard let token = held.withLock({ state in defer { state = nil }; return state?.token }) else { return }
        let holder = holder
        _ = try? await journal.submitAlone { database throws(DatabaseError) in
            try database.prepare("DELETE FROM leases WHERE name = 'leader' AND holder = ?1 AND token = ?2").run([.text(holder), .integer(token)])
        }
        logger.notice("gave the leader lease up", metadata: ["lease.holder": "\(holder)"])
    }

    /// ``stillHeld()`` for synchronous callers on threads of their own (a write-back's push runs
    /// on the blocking pool): waits at most 5 s for the database's answer.
    public func fence() throws(LeaseLost) {
        let answer = Mutex<Bool?>(nil)
        let answered = DispatchSemaphore(value: 0)
        Task {
            let held = await stillHeld()
            answer.withLock { $0 = held }
            answered.signal()
        }
        guard answered.wait(timeout: .now() + 5) == .success, answer.withLock({ $0 }) == true else { throw LeaseLost(holder: holder) }
    }

    /// Takes the lease when it is free and keeps it: returns when this replica became the
    /// holder (or the task was cancelled), and goes on renewing in `renewing` until the lease is
    /// lost, when `lost` is called once.
    public func lead(lost: @escaping @Sendable () -> Void) async -> Task<Void, Never>? {
        while !Task.isCancelled {
            do throws(DatabaseError) {
                if try await tryAcquire() { break }
            } catch {
                logger.warning("cannot ask for the leader lease", metadata: ["error": "\(error)"])
            }
            // Asked often: a lease that ran out passes within half a second.
            try? await Task.sleep(for: min(renewEvery, .milliseconds(500)))
        }
        guard !Task.isCancelled else { return nil }
        logger.notice("leading: this replica runs the workers, promotions and pollers", metadata: ["lease.holder": "\(holder)", "lease.token": "\(token ?? 0)"])
        return Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: renewEvery)
                let renewed: Bool
                do throws(DatabaseError) { renewed = try await tryAcquire() } catch {
                    logger.warning("cannot renew the leader lease", metadata: ["error": "\(error)"])
                    renewed = isLeader  // still within the lease: try again
                }
                if !renewed {
                    logger.critical("lost the leader lease; another replica took the work over", metadata: ["lease.holder": "\(holder)"])
                    lost()
                    return
                }
            }
        }
    }

    /// The database's clock in milliseconds.
    static let now = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// This replica no longer holds the leader lease: it must not push.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public let holder: String
    public var description: String { "\(holder) no longer holds the leader lease; the replica that took it over finishes the work" }
}

extension JournalSchema {
    /// The leader lease's table (``LeaderLease/schema``).
    package static let cluster = LeaderLease.schema
}
