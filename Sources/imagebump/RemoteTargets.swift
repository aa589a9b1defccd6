import Configuration
import Forge
import Foundation
import Git
import HTTPClient
import ImageReference
import Logging
import Pipeline

/// Builds the write-back settings and Git targets the configuration describes, resolving
/// secrets (`env:`/`file:`) only for the repositories actually used.
enum RemoteTargets {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func settings(_ configuration: Configuration) -> WriteBackSettings {
        let git = configuration.git
        let author = Identity(name: git.authorName, email: git.authorEmail)
        let committer = Identity(name: git.committerName ?? git.authorName, email: git.committerEmail ?? git.authorEmail)
        return WriteBackSettings(
            stateDirectory: stateDirectory(configuration), author: author, committer: committer, subject: git.subject,
            pushAttempts: git.pushAttempts, extraction: configuration.extractionOptions, maximumFileSize: configuration.scan.maximumFileSize
        )
    }

    /// `stateDir`, else `$XDG_STATE_HOME/imagebump`, else `~/.local/state/imagebump`.
    static func stateDirectory(_ configuration: Configuration) -> String {
        if let configured = configuration.stateDirectory { return configured }
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return "\(state)/imagebump" }
        return "\(environment["HOME"] ?? FileManager.default.currentDirectoryPath)/.local/state/imagebump"
    }

    /// The targets `image` is written to (only `only` when given).
    static func targets(for image: ImageName, only: String?, in configuration: Configuration) throws -> [GitTarget] {
        guard configuration.images.contains(where: { $0.name == image }) else {
            throw Failure(description: "\(image) is not listed under images in the configuration; add it with the targets it goes to")
        }
        var targets = configuration.targets(for: image)
        if let only {
            targets = targets.filter { $0.name == only }
            guard !targets.isEmpty else {
                throw Failure(
                    description:
                        "\(image) does not go to a target named \"\(only)\"; its targets are \(configuration.targets(for: image).map(\.name).joined(separator: ", "))"
                )
            }
        }
        return try targets.map { target in
            guard let repository = configuration.repos.first(where: { $0.name == target.repo }) else {
                throw Failure(description: "target \(target.name) names the unknown repo \(target.repo)")
            }
            return GitTarget(
                name: target.name, repository: repository.name, url: repository.url, branch: target.branch ?? repository.branch,
                paths: target.paths, mode: target.mode == .commit ? .commit : .branch, credentials: try credentials(repository))
        }
    }

    /// The user most Git hosts take SSH connections as.
    static let defaultSSHUser = "git"

    static func credentials(_ repository: Repository) throws -> GitCredentials {
        var credentials = GitCredentials()
        do {
            if let key = repository.sshKey {
                credentials.method = .sshKey(
                    user: repository.username ?? defaultSSHUser, privateKey: try key.resolve().revealed, passphrase: nil)
            } else if let password = repository.password {
                credentials.method = .userPassword(user: repository.username ?? "imagebump", password: try password.resolve().revealed)
            }
        } catch {
            throw Failure(description: "repo \(repository.name): \(error)")
        }
        if let path = repository.knownHosts {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Failure(description: "repo \(repository.name): the known_hosts file \(path) cannot be read")
            }
            credentials.knownHosts = text
        }
        credentials.acceptUnknownHostKeys = repository.acceptUnknownHostKeys
        return credentials
    }

    /// The forge client for a repository with a `forge:` block (nil without one).
    static func forge(for repositoryName: String, in configuration: Configuration, logger: Logger) throws -> (any Forge)? {
        guard let repository = configuration.repos.first(where: { $0.name == repositoryName }), let settings = repository.forge else {
            return nil
        }
        let base = CurlClient(settings: HTTPClientSettings(caBundle: configuration.git.caBundle))
        let layered = LoggingTransport(RetryingTransport(base, logger: logger), logger: logger)
        let github: [(name: String, value: String)] = [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]
        let transport: any HTTPTransport
        do {
            if let app = settings.app {
                let credentials = GitHubAppCredentials(
                    appID: app.id, installationID: app.installation, privateKey: try app.privateKey.resolve().revealed)
                let tokens = GitHubAppTokens(credentials: credentials, transport: layered, apiBaseURL: settings.api)
                transport = AuthorizingTransport(GitHubAppTransport(layered, tokens: tokens), headers: github)
            } else {
                let token = try settings.token?.resolve().revealed ?? ""
                switch settings.kind {
                case .github: transport = AuthorizingTransport(layered, headers: [("Authorization", "Bearer \(token)")] + github)
                case .gitlab: transport = AuthorizingTransport(layered, headers: [("PRIVATE-TOKEN", token)])
                case .gitea: transport = AuthorizingTransport(layered, headers: [("Authorization", "token \(token)")])
                case .bitbucket: transport = AuthorizingTransport(layered, headers: [("Authorization", "Bearer \(token)")])
                }
            }
        } catch {
            throw Failure(description: "repo \(repository.name): forge \(error)")
        }
        switch settings.kind {
        case .github: return GitHubForge(transport: transport, apiBaseURL: settings.api, repository: settings.project)
        case .gitlab: return GitLabForge(transport: transport, apiBaseURL: settings.api, project: settings.project)
        case .gitea: return GiteaForge(transport: transport, apiBaseURL: settings.api, repository: settings.project)
        case .bitbucket: return BitbucketForge(transport: transport, apiBaseURL: settings.api, repository: settings.project)
        }
    }

    /// The merge-request options of a configured target.
    static func mergeRequestOptions(_ target: String, in configuration: Configuration) -> MergeRequestOptions {
        guard let target = configuration.targets.first(where: { $0.name == target }) else { return MergeRequestOptions() }
        return MergeRequestOptions(labels: target.labels, reviewers: target.reviewers, autoMerge: target.autoMerge, draft: target.draft)
    }

    /// Every secret the configuration can resolve now, for redaction in logs.
    static func resolvableSecrets(_ configuration: Configuration) -> [String] {
        configuration.repos.flatMap { repository in
            [repository.password, repository.sshKey, repository.forge?.token, repository.forge?.app?.privateKey].compactMap {
                try? $0?.resolve().revealed
            }
        }
    }
}
