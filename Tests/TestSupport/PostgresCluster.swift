import Foundation
import Postgres
import Synchronization

/// A throwaway PostgreSQL cluster (Debian's `postgresql`) in a temporary directory on a loopback
/// port, run as the unprivileged `postgres` user (the tests run as root, which PostgreSQL
/// refuses): `initdb`, then `pg_ctl start`; stopped (immediately) when released. Host
/// connections need the password (SCRAM); its methods run programs and wait: call them through
/// ``blocking(_:)`` from async tests.
public final class PostgresCluster: Sendable {
    public let port: Int
    public let user = "imagebump"
    public let password: String
    public let directory: URL
    let binaries: String

    /// `postgres://imagebump@127.0.0.1:PORT/postgres` (the password apart, as imagebump takes it).
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/postgres?sslmode=disable" }

    /// `tls`: the server speaks TLS with this certificate (clients choose with `sslmode`).
    public init(tls: TestCertificates.Files? = nil) throws {
        guard
            let version = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last
        else { throw GitFixture.Failure(description: "no PostgreSQL in /usr/lib/postgresql: run scripts/bootstrap") }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        directory = try TemporaryDirectory.make("imagebump-postgres")
        password = "pg-\(UUID().uuidString)"
        port = try BackgroundServer.freePort()
        let data = directory.appendingPathComponent("data").path
        let passwordFile = directory.appendingPathComponent("password")
        try password.write(to: passwordFile, atomically: true, encoding: .utf8)
        var serverOptions = ""
        if let tls {
            let (certificate, key) = (directory.appendingPathComponent("server.pem").path, directory.appendingPathComponent("server.key").path)
            try FileManager.default.copyItem(atPath: tls.serverCertificate, toPath: certificate)
            try FileManager.default.copyItem(atPath: tls.serverKey, toPath: key)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)  // PostgreSQL refuses a readable key
            serverOptions = " -c ssl=on -c ssl_cert_file=\(certificate) -c ssl_key_file=\(key)"
        }
        try Command.succeed("/bin/chown", ["-R", "postgres:postgres", directory.path])
        try Command.succeed("/bin/chmod", ["700", directory.path])
        try Self.asPostgres(
            "\(binaries)/initdb",
            ["-D", data, "-U", user, "--pwfile", passwordFile.path, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"])
        // Not through pipes: the server it starts would hold them open, and reading to their end would never end.
        let status = try Command.spawnAndWait(
            "/usr/sbin/runuser",
            [
                "-u", "postgres", "--", "\(binaries)/pg_ctl", "-D", data, "-l", directory.appendingPathComponent("log").path, "-w", "-t", "30",
                "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\(serverOptions)", "start",
            ])  // pg_ctl -w -t 30: at most 30 s
        guard status == 0 else {
            let log = (try? String(contentsOf: directory.appendingPathComponent("log"), encoding: .utf8)) ?? ""
            throw GitFixture.Failure(description: "PostgreSQL did not start on 127.0.0.1:\(port): \(log.suffix(2000))")
        }
    }

    private let stopped = Mutex(false)

    /// Stops the server (immediately); again is nothing. Blocking: from async tests, through ``blocking(_:)``.
    public func stop() {
        guard !stopped.withLock({ was in defer { was = true }; return was }) else { return }
        _ = try? Command.spawnAndWait(
            "/usr/sbin/runuser",
            ["-u", "postgres", "--", "\(binaries)/pg_ctl", "-D", directory.appendingPathComponent("data").path, "-m", "immediate", "stop"])
    }

    deinit { stop() }

    @discardableResult
    static func asPostgres(_ program: String, _ arguments: [String]) throws -> String {
        try Command.succeed("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
    }
}

extension PostgresCluster {
    /// One cluster for a whole test process, started by the first test that asks, stopped when the
    /// process exits; each test takes a database of its own in it (``freshDatabase()``).
    public static var shared: PostgresCluster {
        get throws { try sharedCluster.get() }
    }

    private static let sharedCluster = Result { () throws -> PostgresCluster in
        let cluster = try PostgresCluster()
        sharedForExit.withLock { $0 = cluster }
        atexit { PostgresCluster.sharedForExit.withLock { $0 }?.stop() }
        return cluster
    }

    private static let sharedForExit = Mutex<PostgresCluster?>(nil)

    /// A new, empty database of this cluster: its URL (the password is ``password``).
    public func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try PostgresConnection(url: url, password: password).execute("CREATE DATABASE \(name)")
        return "postgres://\(user)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }
}
