import ArgumentParser
import ImageReference
import Logging
import Manifests
import Workspace

/// `imagebump bump IMAGE:TAG[@DIGEST] --repo DIR`: rewrite a directory's references in place.
struct BumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bump",
        abstract: "Move every reference to an image to a new tag (and/or digest) and print the diff.",
        discussion: """
            Only the bytes of the tag or digest change. Exit codes: 0 files changed, 0 and \
            "already up to date" when nothing was to do, 1 failure (nothing references the \
            image, or an edit could not be verified: then no file is written), 2 usage error.
            """
    )

    @Argument(help: "The new reference: IMAGE:TAG, IMAGE@DIGEST or IMAGE:TAG@DIGEST.")
    var reference: String

    @Flag(name: .long, help: "Print the diff without writing any file.")
    var dryRun = false

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do { _ = try BumpRequest(ImageReference(parsing: reference)) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let (configuration, logger) = try global.load(label: "imagebump.bump")
        let request = try BumpRequest(ImageReference(parsing: reference))
        let report: BumpReport
        do {
            report = try directory.workspace(configuration).bump(request, dryRun: dryRun)
        } catch {
            logger.error("bump refused; no file was written", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        for skipped in report.skipped {
            logger.notice("file skipped", metadata: ["file": "\(skipped.file)", "reason": "\(skipped.reason)"])
        }
        for update in report.updates {
            for alone in update.leftAlone {
                logger.notice(
                    "reference left alone",
                    metadata: ["file": "\(alone.reference.file)", "line": "\(alone.reference.line)", "reason": "\(alone.reason)"])
            }
        }
        guard !report.updates.isEmpty else {
            logger.error("nothing references the image", metadata: ["image.repository": "\(request.image)", "repo": "\(directory.repo)"])
            throw ExitCode.failure
        }
        if report.changedFiles.isEmpty {
            emit("already up to date: \(request)\n")
            return
        }
        emit(report.changedFiles.map { UnifiedDiff.render(file: $0.file, old: $0.original, new: $0.updated) }.joined())
        logger.info(
            dryRun ? "dry run: nothing written" : "files updated",
            metadata: [
                "image.repository": "\(request.image)", "files": "\(report.changedFiles.count)", "changes": "\(report.changes.count)",
            ])
    }
}
