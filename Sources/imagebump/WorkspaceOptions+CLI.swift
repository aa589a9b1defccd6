import ArgumentParser
import Configuration
import Manifests
import Workspace

/// The directory and path options `scan` and `bump` share.
struct DirectoryOptions: ParsableArguments {
    @Option(name: .long, help: "The directory holding the environment repository's files (default: the current directory).")
    var repo: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Only files matching these patterns (e.g. 'envs/dev/**').")
    var paths: [String] = []

    func workspace(_ configuration: Configuration) throws -> Workspace {
        var globs: [PathGlob] = []
        for pattern in paths {
            do { globs.append(try PathGlob(pattern)) } catch { throw ValidationError("--paths: \(error)") }
        }
        let options = WorkspaceOptions(
            paths: globs, maximumFileSize: configuration.scan.maximumFileSize, extraction: configuration.extractionOptions)
        return Workspace(root: repo ?? ".", options: options)
    }
}
