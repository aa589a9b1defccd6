import ArgumentParser
import Configuration
import Forge
import Foundation
import Git
import ImageReference
import Logging
import Manifests
import Pipeline
import Workspace

/// `imagebump bump IMAGE:TAG[@DIGEST]`: in a directory (`--repo DIR`), or in the configured
/// environment repositories (`--config FILE [--target NAME]`): commit and push.
struct BumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bump",
        abstract: "Move every reference to an image to a new tag (and/or digest).",
        discussion: """
            With --repo DIR (or no --config) the files of DIR are rewritten in place and the diff \
            is printed. With --config and no --repo, every target of the image (or --target) is \
            bumped in its Git repository without a checkout: commit, then push to the branch \
            (mode commit) or to the update branch imagebump/TARGET/IMAGE (mode branch); the \
            commit id and branch are printed. Only the bytes of the tag or digest change. \
            Exit codes: 0 changed, 0 and "already up to date" when nothing was to do, 1 failure \
            (nothing references the image, an edit could not be verified, a push failed: \
            nothing half-done is written), 2 usage or configuration error.
            """
    )

    @Argument(help: "The new reference: IMAGE:TAG, IMAGE@DIGEST or IMAGE:TAG@DIGEST.")
    var reference: String

    @Flag(name: .long, help: "Print what would change without writing or pushing anything.")
    var dryRun = false

    @Option(name: .long, help: "With --config: bump only this target.")
    var target: String?

    @Option(name: .long, help: "With --config: the event id recorded in the commit trailer (default: a new UUID).")
    var eventID: String?

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do { _ = try BumpRequest(ImageReference(parsing: reference)) } catch { throw ValidationError("\(error)") }
        if target != nil, global.config == nil { throw ValidationError("--target needs --config") }
        if directory.repo != nil, target != nil { throw ValidationError("--target bumps a configured repository; drop --repo") }
    }

    func run() async throws {
        let (configuration, logger) = try global.load(label: "imagebump.bump")
        let request = try BumpRequest(ImageReference(parsing: reference))
        if global.config != nil, directory.repo == nil {
            try await bumpRepositories(request, configuration, logger)
        } else {
            try bumpDirectory(request, configuration, logger)
        }
    }

    private func bumpRepositories(_ request: BumpRequest, _ configuration: Configuration, _ logger: Logger) async throws {
        let targets: [GitTarget]
        let settings: WriteBackSettings
        var forges: [String: any Forge] = [:]
        do {
            settings = try WriteBackSettings(configuration)
            if let bundle = configuration.git.caBundle { try LibGit2.useCertificateAuthorities(file: bundle, directory: nil) }
            LibGit2.setNetworkTimeout(.seconds(configuration.git.timeoutSeconds))
            targets = try GitTarget.targets(for: request.image, only: target, in: configuration)
            for target in targets where target.mode == .branch {
                forges[target.repository] = try ConfiguredForge.make(for: target.repository, in: configuration, logger: logger)
            }
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        let updater = TargetUpdater(writeBack: WriteBack(settings: settings, logger: logger), logger: logger)
        let event = eventID ?? UUID().uuidString.lowercased()
        var failed = false
        for target in targets {
            do {
                let update = try await updater.update(
                    request, target: target, forge: forges[target.repository],
                    options: MergeRequestOptions(target: target.name, in: configuration),
                    trigger: Trigger(
                        source: "imagebump bump (command line)", time: ISO8601DateFormatter().string(from: Date()), eventID: event),
                    dryRun: dryRun)
                let result = update.writeBack
                let mergeRequest =
                    update.mergeRequest.map { "; merge request #\($0.number) \(update.mergeRequestOutcome?.rawValue ?? "") \($0.url)" }
                    ?? ""
                let count = "\(result.changes.count) change\(result.changes.count == 1 ? "" : "s")"
                switch result.outcome {
                case .pushed:
                    emit("\(target.name): pushed \(result.commit?.short ?? "") to \(result.branch) (\(count))\(mergeRequest)\n")
                    logger.info(
                        "pushed",
                        metadata: [
                            "target": "\(target.name)", "git.commit": "\(result.commit?.hex ?? "")", "git.branch": "\(result.branch)",
                            "event.id": "\(event)", "attempts": .stringConvertible(result.attempts),
                        ])
                case .upToDate:
                    emit("\(target.name): already up to date on \(result.branch)\(mergeRequest)\n")
                case .dryRun:
                    emit("\(target.name): would commit to \(result.branch):\n")
                    emit(
                        result.updates.filter(\.isChanged).map { UnifiedDiff.render(file: $0.file, old: $0.original, new: $0.updated) }
                            .joined())
                }
            } catch {
                failed = true
                logger.error("bump failed; nothing was pushed", metadata: ["target": "\(target.name)", "error": "\(error)"])
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if failed { throw ExitCode.failure }
    }

    private func bumpDirectory(_ request: BumpRequest, _ configuration: Configuration, _ logger: Logger) throws {
        let report: BumpReport
        do {
            report = try directory.workspace(configuration).bump(request, dryRun: dryRun)
        } catch {
            logger.error("bump refused; no file was written", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        for line in SkippedSummary.lines(report.skipped, all: false) { logger.notice("\(line)") }
        for refused in report.refused {
            logger.error("not written", metadata: ["file": "\(refused.file)", "reason": "\(refused.reason)"])
        }
        for update in report.updates {
            for alone in update.leftAlone where !update.unwritable.contains(alone) {
                logger.notice(
                    "reference left alone",
                    metadata: ["file": "\(alone.reference.file)", "line": "\(alone.reference.line)", "reason": "\(alone.reason)"])
            }
        }
        guard !report.updates.isEmpty || !report.refused.isEmpty else {
            // Say where it did not look: files that may hold the image but were skipped.
            var message = "nothing references the image"
            if !report.skipped.isEmpty {
                let named = report.skipped.prefix(3).map { "\($0.file) (\(SkippedSummary.kind($0.reason)))" }.joined(separator: ", ")
                message +=
                    "; \(report.skipped.count) file\(report.skipped.count == 1 ? "" : "s") that may were skipped: \(named)\(report.skipped.count > 3 ? ", …" : "")"
            }
            logger.error("\(message)", metadata: ["image.repository": "\(request.image)", "repo": "\(directory.repo ?? ".")"])
            throw ExitCode.failure
        }
        if report.changedFiles.isEmpty, report.refused.isEmpty {
            emit("already up to date: \(request)\n")
            return
        }
        emit(report.changedFiles.map { UnifiedDiff.render(file: $0.file, old: $0.original, new: $0.updated) }.joined())
        logger.info(
            dryRun ? "dry run: nothing written" : "files updated",
            metadata: [
                "image.repository": "\(request.image)", "files": .stringConvertible(report.changedFiles.count), "changes": .stringConvertible(report.changes.count),
            ])
        if !report.refused.isEmpty { throw ExitCode.failure }  // some files were not written
    }
}
