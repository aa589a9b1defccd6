import Foundation
import Postgres
import TestSupport
import Testing

/// libpq's wrapper against a real PostgreSQL cluster the test starts (`PostgresCluster`): what
/// the journal on PostgreSQL (issue 18) will stand on — parameters and NULLs, SQLSTATEs,
/// transactions, row claims with `FOR UPDATE SKIP LOCKED`, advisory locks, and a password that
/// never shows in an error.
///
/// Each test has a cluster of its own (about a second to `initdb`, on a thread of its own),
/// stopped when the test ends.
@Suite struct PostgresConnectionTests {
    /// Runs `body` against a new cluster, then stops it.
    func withCluster(_ body: (PostgresCluster) async throws -> Void) async throws {
        let cluster = try await blocking { try PostgresCluster() }
        do { try await body(cluster) } catch {
            try? await blocking { cluster.stop() }
            throw error
        }
        try await blocking { cluster.stop() }
    }

    func connect(_ cluster: PostgresCluster) throws -> PostgresConnection { try PostgresConnection(url: cluster.url, password: cluster.password) }

    @Test func parametersNullsAndErrorsWithTheirSQLState() async throws {
        try await withCluster { cluster in
            let database = try connect(cluster)
            #expect(database.serverVersion >= 150_000)
            try database.execute("CREATE TABLE t1 (id TEXT PRIMARY KEY, n BIGINT, note TEXT)")
            try database.execute("INSERT INTO t1 VALUES ($1, $2, $3)", [.text("a'; DROP TABLE t1; --"), .integer(42), .null])
            let rows = try database.execute("SELECT id, n, note FROM t1")
            #expect(rows.count == 1)
            #expect(rows.first?[0] == "a'; DROP TABLE t1; --")  // a parameter, never SQL
            #expect(rows.first?[1] == "42")
            #expect(rows.first?[2] == nil)
            do {
                try database.execute("INSERT INTO t1 VALUES ($1, 1, NULL)", [.text("a'; DROP TABLE t1; --")])
                Issue.record("a duplicate key was accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
            }
        }
    }

    @Test func aTransactionCommitsOrRollsBackAsAWhole() async throws {
        try await withCluster { cluster in
            let database = try connect(cluster)
            try database.execute("CREATE TABLE t2 (id INT PRIMARY KEY)")
            try database.transaction { connection throws(PostgresError) in
                try connection.execute("INSERT INTO t2 VALUES (1)")
                try connection.execute("INSERT INTO t2 VALUES (2)")
            }
            do {
                try database.transaction { connection throws(PostgresError) in
                    try connection.execute("INSERT INTO t2 VALUES (3)")
                    try connection.execute("INSERT INTO t2 VALUES (1)")  // fails: nothing of this one stays
                }
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
            }
            #expect(try database.execute("SELECT id FROM t2 ORDER BY id").map { $0[0] } == ["1", "2"])
        }
    }

    @Test func claimsSkipRowsAnotherConnectionHoldsAndAdvisoryLocksExcludeEachOther() async throws {
        try await withCluster { cluster in
            let first = try connect(cluster)
            let second = try connect(cluster)
            try first.execute("CREATE TABLE jobs (id INT PRIMARY KEY)")
            try first.execute("INSERT INTO jobs SELECT generate_series(1, 4)")
            try first.execute("BEGIN")
            let claimed = try first.execute("SELECT id FROM jobs ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED").compactMap { $0[0] }
            #expect(claimed == ["1", "2"])
            // The other replica's claim skips the held rows instead of waiting for them.
            let others = try second.execute("SELECT id FROM jobs ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED").compactMap { $0[0] }
            #expect(others == ["3", "4"])
            try first.execute("COMMIT")
            // One lane owner at a time: an advisory lock held by one session is refused to another.
            #expect(try first.execute("SELECT pg_try_advisory_lock(18)").first?[0] == "t")
            #expect(try second.execute("SELECT pg_try_advisory_lock(18)").first?[0] == "f")
            #expect(try first.execute("SELECT pg_advisory_unlock(18)").first?[0] == "t")
            #expect(try second.execute("SELECT pg_try_advisory_lock(18)").first?[0] == "t")
        }
    }

    /// TLS as libpq offers it, through the URL: `verify-full` with the server's CA connects over
    /// TLS (and the journal works there); with another CA it is refused, saying why.
    @Test func verifyFullConnectsOverTLSAndRefusesAnUnknownCertificateAuthority() async throws {
        let (certificates, stranger) = try await blocking { (try TestCertificates.make(), try TestCertificates.make()) }
        let cluster = try await blocking { try PostgresCluster(tls: certificates) }
        do { try checkTLS(cluster, certificates, stranger) } catch {
            try? await blocking { cluster.stop() }
            throw error
        }
        try await blocking { cluster.stop() }
    }

    func checkTLS(_ cluster: PostgresCluster, _ certificates: TestCertificates.Files, _ stranger: TestCertificates.Files) throws {
        let base = "postgres://\(cluster.user)@localhost:\(cluster.port)/postgres?sslmode=verify-full&sslrootcert="
        let database = try PostgresConnection(url: base + certificates.caCertificate, password: cluster.password)
        #expect(try database.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.first == "t")
        do {
            _ = try PostgresConnection(url: base + stranger.caCertificate, password: cluster.password)
            Issue.record("a server certificate from an unknown authority was accepted")
        } catch {
            #expect(error.message.contains("certificate verify failed"), "\(error)")
            #expect(!error.description.contains(cluster.password))
        }
    }

    /// The server a test starts keeps nothing of the test process open: a pipe another test was
    /// reading when it started is not held open by PostgreSQL (that test would wait forever).
    @Test func theServerInheritsNoOtherTestsPipe() async throws {
        let pipe = Pipe()
        let cluster = try await blocking { try PostgresCluster() }
        let pid = try String(contentsOf: cluster.directory.appendingPathComponent("data/postmaster.pid"), encoding: .utf8)
            .split(separator: "\n").first.map(String.init) ?? ""
        let written = "/proc/self/fd/\(pipe.fileHandleForWriting.fileDescriptor)"
        let ours = try FileManager.default.destinationOfSymbolicLink(atPath: written)
        let held = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")
        }
        try await blocking { cluster.stop() }
        #expect(ours.hasPrefix("pipe:"))
        #expect(!held.isEmpty, "the server's descriptors were read")
        #expect(!held.contains(ours), "PostgreSQL holds the test's pipe open")
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        try await withCluster { cluster in
            do {
                _ = try PostgresConnection(url: cluster.url, password: "not-the-password-s3cr3t")
                Issue.record("a wrong password connected")
            } catch let error as PostgresError {
                #expect(error.message.contains("password authentication failed"), "\(error)")
                #expect(!error.description.contains("not-the-password-s3cr3t"))
            }
            // A password written into the URL is not shown either.
            do {
                _ = try PostgresConnection(url: "postgres://imagebump:url-s3cr3t@127.0.0.1:\(cluster.port)/postgres?sslmode=disable")
                Issue.record("a wrong password connected")
            } catch let error as PostgresError {
                #expect(!error.description.contains("url-s3cr3t"), "\(error)")
            }
            // Nothing listens there: refused within the timeout, with the reason.
            let port = try BackgroundServer.freePort()
            #expect(throws: PostgresError.self) { _ = try PostgresConnection(url: "postgres://x@127.0.0.1:\(port)/x", timeoutSeconds: 2) }
        }
    }
}
