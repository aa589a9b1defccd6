import Dispatch
import Events
import Foundation
import ImageReference
import Synchronization

/// The durable record of every accepted event, in SQLite (WAL, `synchronous=FULL`).
///
/// One thread owns the connection. Callers queue work and wait; the writer takes everything
/// queued, runs it in one transaction and commits once — so concurrent requests share one
/// fsync (group commit), and `record` returns only after its event is on disk.
public final class Journal: Sendable {
    private struct Job: Sendable {
        let work: @Sendable (any SQLDatabase, Statements) throws(DatabaseError) -> any Sendable
        let done: @Sendable (Result<any Sendable, DatabaseError>) -> Void
    }

    /// A finished job's answer, waiting for the completion thread.
    private struct Finished: Sendable {
        let done: @Sendable (Result<any Sendable, DatabaseError>) -> Void
        let result: Result<any Sendable, DatabaseError>
    }

    /// Jobs for the next transaction, and whether the writer has ended (a job handed in after
    /// that fails at once instead of waiting for a writer that will never come).
    private let queue = Mutex<(jobs: [Job], ended: Bool)>(([], false))
    /// Work that must run outside any transaction (an online backup reads the database through
    /// the writer's own connection, which SQLite refuses inside a write transaction).
    private let alone = Mutex<[Job]>([])
    private let completions = Mutex<[Finished]>([])
    private let completionsReady = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let commits = Atomic<Int>(0)
    /// Commits still to fail on purpose (tests of what a failed group commit leaves behind).
    let failingCommits = Atomic<Int>(0)
    /// A repeat of an image+tag+digest within this many seconds joins the earlier event.
    public let deduplicationWindow: TimeInterval
    /// Where the journal is: its SQLite file, or its PostgreSQL database.
    public let location: JournalLocation
    /// The database file, or the PostgreSQL URL without a password.
    public var path: String { location.description }
    /// What every stored text (errors, step details, reasons) goes through first: the service
    /// passes the logs' redactor, so no secret an error echoes reaches the journal or the API.
    package let redact: @Sendable (String) -> String

    /// Opens (creating if needed) the SQLite journal at `path`; see ``init(location:schemas:deduplicationWindow:completionScope:redact:)``.
    package convenience init(
        path: String, schemas: [JournalSchema] = [], deduplicationWindow: TimeInterval = 600,
        completionScope: @escaping @Sendable (() -> Void) -> Void = { $0() }, redact: @escaping @Sendable (String) -> String = { $0 }
    ) throws(DatabaseError) {
        try self.init(
            location: .sqlite(path: path), schemas: schemas, deduplicationWindow: deduplicationWindow, completionScope: completionScope,
            redact: redact)
    }

    /// Opens (creating if needed) the journal at `location`, with the events' tables and the
    /// features' `schemas` migrated to their latest versions. Each run of completions (the callers
    /// of one or more commits) happens inside `completionScope`: the service passes the HTTP
    /// server's ``AnswerBatch`` there, so a run of answers wakes each event loop once.
    package init(
        location: JournalLocation, schemas: [JournalSchema] = [], deduplicationWindow: TimeInterval = 600,
        completionScope: @escaping @Sendable (() -> Void) -> Void = { $0() }, redact: @escaping @Sendable (String) -> String = { $0 }
    ) throws(DatabaseError) {
        self.deduplicationWindow = deduplicationWindow
        self.location = location
        self.redact = redact
        let database: any SQLDatabase
        switch location {
        case .sqlite(let path):
            let sqlite = try SQLiteDatabase(path: path)
            // One connection, one process: its locks are taken once, not per transaction (and, set
            // before the WAL opens, the WAL index lives in its memory); checkpoints run after a
            // commit's answers left (below).
            try sqlite.execute("PRAGMA locking_mode=EXCLUSIVE")
            try sqlite.execute("PRAGMA journal_mode=WAL")
            try sqlite.execute("PRAGMA synchronous=FULL")
            try sqlite.execute("PRAGMA wal_autocheckpoint=0")
            database = sqlite
        case .postgres(let url, let password):
            database = try PostgresDatabase(url: url, password: password)
        }
        try JournalSchema.migrate([Self.eventSchema] + schemas, in: database)
        let statements = try Statements(database, recent: try Self.recentEvents(database, window: deduplicationWindow))
        let box = DatabaseBox(database: database, statements: statements)
        Thread.detachNewThread { [self] in
            Thread.current.name = "journal-done"
            while true {
                completionsReady.wait()
                let finished = completions.withLock { pending in
                    defer { pending.removeAll(keepingCapacity: true) }
                    return pending
                }
                if finished.isEmpty, stopped.load(ordering: .relaxed) { return }
                completionScope { for item in finished { item.done(item.result) } }
            }
        }
        Thread.detachNewThread { [self] in
            Thread.current.name = "journal"  // as top -H and perf show it
            writerLoop(box)
        }
    }

    /// The events' own tables: version 1 is the shape before `schema_versions` existed (a
    /// journal from then is brought to it), version 2 lets an event go from the dedupe window
    /// (its promotion failed: its tag may be sent again).
    static let eventSchema = JournalSchema(
        feature: "events",
        migrations: [
            { database in
                try database.execute(
                    """
                    CREATE TABLE IF NOT EXISTS events (
                      id TEXT PRIMARY KEY, received_at TEXT NOT NULL, received_epoch INTEGER NOT NULL, source TEXT NOT NULL,
                      delivery_id TEXT, registry TEXT NOT NULL, repository TEXT NOT NULL, tag TEXT, digest TEXT,
                      status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, commit_id TEXT, merge_request_url TEXT);
                    DROP INDEX IF EXISTS events_delivery;
                    DROP INDEX IF EXISTS events_status;
                    DROP INDEX IF EXISTS events_delivery_set;
                    DROP INDEX IF EXISTS events_image;
                    CREATE INDEX IF NOT EXISTS events_unfinished ON events(received_epoch) WHERE status IN ('received','committed');
                    CREATE TABLE IF NOT EXISTS event_steps (event_id TEXT NOT NULL, at TEXT NOT NULL, step TEXT NOT NULL, detail TEXT);
                    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE INDEX IF NOT EXISTS event_steps_event ON event_steps(event_id);
                    """)
                try database.addColumn("events", "ignored_reason TEXT")  // an event ignored at intake keeps its reason
                try database.addColumn("events", "pushed_ms INTEGER")
            },
            { database in try database.addColumn("events", "released INTEGER NOT NULL DEFAULT 0") },
        ])

    /// Moves the non-Sendable connection to the writer thread once, at start.
    private final class DatabaseBox: @unchecked Sendable {  // handed over once; only the writer thread touches it afterwards
        let database: any SQLDatabase
        let statements: Statements
        init(database: any SQLDatabase, statements: Statements) {
            self.database = database
            self.statements = statements
        }
    }

    deinit { close() }

    /// Stops the writer after the work already queued.
    public func close() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        wake.signal()
    }

    /// Transactions committed so far (group commit makes this smaller than the writes).
    public var commitCount: Int { commits.load(ordering: .relaxed) }

    private func writerLoop(_ box: DatabaseBox) {
        while true {
            wake.wait()
            let solitary = alone.withLock { jobs in
                defer { jobs.removeAll() }
                return jobs
            }
            if !solitary.isEmpty {
                let finished = solitary.map { job in
                    do throws(DatabaseError) {
                        return Finished(done: job.done, result: .success(try job.work(box.database, box.statements)))
                    } catch {
                        return Finished(done: job.done, result: .failure(error))
                    }
                }
                completions.withLock { $0.append(contentsOf: finished) }
                completionsReady.signal()
            }
            let (jobs, ended) = queue.withLock { queue -> ([Job], Bool) in
                defer { queue.jobs.removeAll() }
                if queue.jobs.isEmpty, stopped.load(ordering: .relaxed) {
                    queue.ended = true
                    return (alone.withLock { $0 }, true)  // handed in alone after the last look: never run
                }
                return (queue.jobs, false)
            }
            if ended {
                let refused = jobs.map { Finished(done: $0.done, result: .failure(Self.closedError)) }
                completions.withLock { $0.append(contentsOf: refused) }
                completionsReady.signal()  // lets the completion thread end too
                return
            }
            if jobs.isEmpty { continue }
            var results: [Result<any Sendable, DatabaseError>] = []
            let recent = box.statements.recent
            do throws(DatabaseError) {
                try box.database.execute("BEGIN IMMEDIATE")
                box.statements.shared?.transaction += 1
                // One savepoint per job: a job that fails halfway takes back what it wrote (and
                // what it staged in the deduplication window); the others commit.
                for job in jobs {
                    let mark = recent.mark
                    do throws(DatabaseError) {
                        try box.database.execute("SAVEPOINT job")
                        let value = try job.work(box.database, box.statements)
                        try box.database.execute("RELEASE job")
                        results.append(.success(value))
                    } catch {
                        try? box.database.execute("ROLLBACK TO job")
                        try? box.database.execute("RELEASE job")
                        recent.rollback(to: mark)
                        results.append(.failure(error))
                    }
                }
                if failingCommits.load(ordering: .relaxed) > 0 {
                    failingCommits.subtract(1, ordering: .relaxed)
                    throw DatabaseError(code: 10, operation: "COMMIT", message: "disk I/O error (injected)")
                }
                try box.database.execute("COMMIT")
                // Only now does the deduplication window learn of the new events.
                recent.commit()
                commits.add(1, ordering: .relaxed)
            } catch {
                try? box.database.execute("ROLLBACK")
                recent.rollback()
                results = jobs.map { _ in .failure(error) }
            }
            // Answered from another thread, so the next transaction starts at once.
            let finished = zip(jobs, results).map { job, result in Finished(done: job.done, result: result) }
            completions.withLock { $0.append(contentsOf: finished) }
            completionsReady.signal()
            // The WAL goes back into the database after the answers left, so no request waits for
            // a checkpoint inside its own commit (SQLite's automatic one runs there).
            if box.database.dialect == .sqlite, commits.load(ordering: .relaxed) % 64 == 0 {
                try? box.database.execute("PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
    }

    /// Queues work for the writer thread; `done` is called on the completion thread with its result.
    func enqueue(
        _ work: @escaping @Sendable (any SQLDatabase, Statements) throws(DatabaseError) -> any Sendable,
        done: @escaping @Sendable (Result<any Sendable, DatabaseError>) -> Void
    ) {
        let accepted = queue.withLock { queue in
            if !queue.ended { queue.jobs.append(Job(work: work, done: done)) }
            return !queue.ended
        }
        guard accepted else { return done(.failure(Self.closedError)) }
        wake.signal()
    }

    static let closedError = DatabaseError(code: -1, operation: "journal", message: "the journal is closed")

    /// Runs `work` on the writer's connection between two transactions (not inside one).
    package func submitAlone<T: Sendable>(_ work: @escaping @Sendable (any SQLDatabase) throws(DatabaseError) -> T) async throws(DatabaseError) -> T {
        try Self.typed(
            await withCheckedContinuation { continuation in
                let job = Job(work: { database, _ throws(DatabaseError) in try work(database) }, done: { continuation.resume(returning: $0) })
                let accepted = queue.withLock { queue in
                    if !queue.ended { alone.withLock { $0.append(job) } }
                    return !queue.ended
                }
                guard accepted else { return continuation.resume(returning: .failure(Self.closedError)) }
                wake.signal()
            })
    }

    package func submit<T: Sendable>(_ work: @escaping @Sendable (any SQLDatabase, Statements) throws(DatabaseError) -> T) async throws(DatabaseError) -> T {
        try Self.typed(
            await withCheckedContinuation { continuation in
                enqueue({ database, statements throws(DatabaseError) in try work(database, statements) }, done: { continuation.resume(returning: $0) })
            })
    }

    /// A job's result as the type its caller asked for.
    private static func typed<T>(_ result: Result<any Sendable, DatabaseError>) throws(DatabaseError) -> T {
        switch result {
        case .success(let value):
            guard let typed = value as? T else { throw DatabaseError(code: -1, operation: "journal", message: "unexpected result type") }
            return typed
        case .failure(let error): throw error
        }
    }
}
