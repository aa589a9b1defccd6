import ArgumentParser
import Configuration
import Foundation
import HTTPClient
import Journal

/// `imagebump journal backup FILE`: a consistent copy of the journal, while serving or not.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Back up the journal.", subcommands: [Backup.self])

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the journal to FILE (a new file), consistently, while serve runs or not.",
            discussion: """
                While serve runs, it writes the copy itself (POST /v1/journal/backup on the admin listener, with \
                server.admin.token): FILE is a path on the server's disk, e.g. on the stateDir volume. When no \
                service answers, the journal in stateDir is copied directly. Restore: stop serve, put the copy \
                at STATEDIR/journal.sqlite (remove journal.sqlite-wal), start serve.
                """)

        @Argument(help: "An absolute path that does not exist yet.") var file: String
        @OptionGroup var options: EventsCommand.ServerOptions

        func validate() throws {
            if let problem = Journal.backupProblem(file), !problem.contains("does not exist") { throw ValidationError(problem) }
        }

        func run() async throws {
            let (configuration, _) = try options.global.load(label: "imagebump.journal")
            if configuration.journal.isShared {
                FileHandle.standardError.write(Data("the journal is a PostgreSQL database (journal.url): back it up with the database's own tools (pg_dump)\n".utf8))
                throw ExitCode.failure
            }
            let url = options.baseURL(configuration) + "/v1/journal/backup"
            var request = HTTPRequest(method: "POST", url: url, body: [UInt8](try JSONSerialization.data(withJSONObject: ["path": file])))
            if let token = options.adminToken(configuration) { request.setHeader("Authorization", "Bearer \(token)") }
            do {
                let response = try await CurlClient(settings: HTTPClientSettings(totalTimeout: .seconds(600))).send(request)
                let object = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
                guard response.status == 200 else {
                    FileHandle.standardError.write(
                        Data("backup refused (HTTP \(response.status)): \(object["detail"] as? String ?? response.bodyText)\n".utf8))
                    throw ExitCode.failure
                }
                emit("backed up the running journal to \(file) (\(object["pages"] as? Int ?? 0) pages)\n")
            } catch let error as HTTPClientError where error.code == .unreachable {
                // No service: the journal is not held; copy it here.
                let source = configuration.resolvedStateDirectory + "/journal.sqlite"
                do {
                    let pages = try Journal.backup(from: source, to: file)
                    emit("no service answered at \(url); backed up \(source) to \(file) (\(pages) pages)\n")
                } catch {
                    FileHandle.standardError.write(Data("cannot back up \(source): \(error)\n".utf8))
                    throw ExitCode.failure
                }
            }
        }
    }
}
