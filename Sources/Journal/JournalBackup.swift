import CSQLite
import Foundation

extension SQLiteDatabase {
    /// Copies this database to `destination` with SQLite's online backup API, in one step under
    /// one read snapshot. The copy is written next to `destination` and renamed to it once
    /// complete, so a failed backup never leaves half a file under that name. Returns the pages.
    func backup(to destination: String) throws(DatabaseError) -> Int {
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        var copy: OpaquePointer?
        defer { sqlite3_close(copy) }
        guard sqlite3_open_v2(partial, &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let copy else {
            throw DatabaseError(code: SQLITE_CANTOPEN, operation: "backup to \(destination)", message: "cannot create \(partial)")
        }
        guard let backup = sqlite3_backup_init(copy, "main", handle, "main") else {
            throw DatabaseError(code: sqlite3_errcode(copy), operation: "backup", message: String(cString: sqlite3_errmsg(copy)))
        }
        var status = SQLITE_OK
        for _ in 0..<50 {  // a busy source is waited for, at most 5 s
            status = sqlite3_backup_step(backup, -1)
            guard status == SQLITE_BUSY || status == SQLITE_LOCKED else { break }
            usleep(100_000)
        }
        let pages = Int(sqlite3_backup_pagecount(backup))
        sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE else {
            try? FileManager.default.removeItem(atPath: partial)
            throw DatabaseError(code: status, operation: "backup", message: String(cString: sqlite3_errstr(status)))
        }
        do {
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
        } catch {
            throw DatabaseError(code: SQLITE_IOERR, operation: "backup", message: "cannot move the copy to \(destination): \(error.localizedDescription)")
        }
        return pages
    }
}

extension Journal {
    /// Why `destination` is no place for a backup, or nil: it must be an absolute path to a file
    /// that does not exist yet, in a directory that does (a backup never overwrites anything).
    public static func backupProblem(_ destination: String) -> String? {
        guard destination.hasPrefix("/") else { return "give an absolute path for the backup, e.g. /var/lib/imagebump/backup.sqlite" }
        guard !FileManager.default.fileExists(atPath: destination) else { return "\(destination) exists; a backup never overwrites a file" }
        var isDirectory: ObjCBool = false
        let directory = (destination as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "the directory \(directory) does not exist"
        }
        return nil
    }

    /// Backs the running journal up to `destination` on its writer thread (the one connection
    /// that may read it while serving): a consistent snapshot between two commits.
    public func backup(to destination: String) async throws(DatabaseError) -> Int {
        if let problem = Self.backupProblem(destination) { throw DatabaseError(code: SQLITE_MISUSE, operation: "backup", message: problem) }
        return try await submitAlone { database throws(DatabaseError) in
            guard let sqlite = database as? SQLiteDatabase else {
                throw DatabaseError(code: SQLITE_MISUSE, operation: "backup", message: "a PostgreSQL journal is backed up with the database's own tools (pg_dump)")
            }
            return try sqlite.backup(to: destination)
        }
    }

    /// Backs up the journal at `source` while no `serve` holds it (the serving process keeps its
    /// journal locked: ask it through the admin API instead).
    @discardableResult
    public static func backup(from source: String, to destination: String) throws(DatabaseError) -> Int {
        if let problem = backupProblem(destination) { throw DatabaseError(code: SQLITE_MISUSE, operation: "backup", message: problem) }
        guard FileManager.default.fileExists(atPath: source) else {
            throw DatabaseError(code: SQLITE_CANTOPEN, operation: "backup", message: "no journal at \(source); check stateDir in --config")
        }
        let database = try SQLiteDatabase(path: source)
        return try database.backup(to: destination)
    }

    /// Deletes finished events received before `cutoff` (and their steps), at most `limit` per
    /// call, oldest first, in one transaction; returns how many went. Pending events stay,
    /// whatever their age.
    public func pruneEvents(before cutoff: Date, limit: Int = 5000) async throws(DatabaseError) -> Int {
        let epoch = Int64(cutoff.timeIntervalSince1970)
        return try await submit { database, _ throws(DatabaseError) in
            let ids = try database.prepare(
                "SELECT id FROM events WHERE received_epoch < ? AND status NOT IN ('received','committed') ORDER BY rowid LIMIT ?"
            ).run([.integer(epoch), .integer(Int64(limit))]).compactMap { $0[0].text }
            let deleteSteps = try database.prepare("DELETE FROM event_steps WHERE event_id = ?")
            let deleteEvent = try database.prepare("DELETE FROM events WHERE id = ?")
            for id in ids {
                _ = try deleteSteps.run([.text(id)])
                _ = try deleteEvent.run([.text(id)])
            }
            return ids.count
        }
    }
}

extension Journal {
    /// The journal's files on disk (database and write-ahead log), in bytes.
    public var sizeOnDisk: Int {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }
}
