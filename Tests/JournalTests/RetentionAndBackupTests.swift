import Events
import Foundation
import TestSupport
import Testing

@testable import Journal

/// `journal.keepDays` pruning and `journal backup`: what goes, what stays, and a copy that opens.
@Suite struct RetentionAndBackupTests {
    @Test(arguments: JournalBackend.allCases)
    func pruningTakesFinishedOldEventsAndLeavesPendingAndRecentOnes(backend: JournalBackend) async throws {
        let journal = try Journal(location: try await backend.freshLocation())
        let old = Date().addingTimeInterval(-40 * 86_400)
        let done = try await journal.record(try JournalTests.event("1.0.0"), now: old)
        let pending = try await journal.record(try JournalTests.event("1.0.1"), now: old)
        let recent = try await journal.record(try JournalTests.event("1.0.2"))
        try await journal.update(done.id, status: .done, detail: "written")
        try await journal.update(recent.id, status: .done, detail: "written")
        let cutoff = Date().addingTimeInterval(-30 * 86_400)
        // In batches: one at a time here.
        #expect(try await journal.pruneEvents(before: cutoff, limit: 1) == 1)
        #expect(try await journal.pruneEvents(before: cutoff, limit: 1) == 0)
        #expect(try await journal.event(done.id) == nil)
        #expect(try await journal.steps(done.id).isEmpty)
        #expect(try await journal.event(pending.id)?.status == .received)  // still to be written, whatever its age
        #expect(try await journal.event(recent.id)?.status == .done)
    }

    @Test func aBackupIsAConsistentCopyAndNeverOverwrites() async throws {
        let journal = try Journal(path: try JournalTests.path())
        let recorded = try await journal.record(try JournalTests.event("2.0.0"))
        let directory = try TemporaryDirectory.make("imagebump-backup")
        let online = directory.appendingPathComponent("online.sqlite").path
        // While the journal is open and held (serve's case): through its writer.
        #expect(try await journal.backup(to: online) > 0)
        #expect(FileManager.default.fileExists(atPath: online))
        #expect(!FileManager.default.fileExists(atPath: online + ".partial"))
        await #expect(throws: DatabaseError.self) { _ = try await journal.backup(to: online) }  // exists: refused
        #expect(Journal.backupProblem("relative.sqlite")?.contains("absolute path") == true)
        #expect(Journal.backupProblem("/nonexistent-dir/x.sqlite")?.contains("does not exist") == true)
        // Offline (no serve holds the file): straight from it.
        let offline = directory.appendingPathComponent("offline.sqlite").path
        #expect(try Journal.backup(from: online, to: offline) > 0)
        // Each copy is a journal: it opens and has the event.
        for path in [online, offline] {
            let copy = try Journal(path: path)
            #expect(try await copy.event(recorded.id)?.tag == "2.0.0")
            copy.close()
        }
    }
}
