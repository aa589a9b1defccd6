import Foundation
import Configuration
import Crypto
import Forge
import Git
import HTTPClient
import ImageReference
import Logging

/// The write-back settings, Git targets and forge clients the configuration describes,
/// resolving secrets (`env:`/`file:`) only for the repositories actually used.
extension WriteBackSettings {
    /// The configured settings; a signing key is read and tried now, so a wrong one stops the
    /// start instead of every commit.
    public init(_ configuration: Configuration) throws(SetupFailure) {
        let git = configuration.git
        self.init(
            stateDirectory: configuration.resolvedStateDirectory, author: Identity(name: git.authorName, email: git.authorEmail),
            committer: Identity(name: git.committerName ?? git.authorName, email: git.committerEmail ?? git.authorEmail),
            subject: git.subject, pushAttempts: git.pushAttempts, extraction: configuration.extractionOptions,
            maximumFileSize: configuration.scan.maximumFileSize)
        if let reference = git.signingKey {
            do {
                let key = try reference.resolve().revealed
                _ = try SSHSigner(openSSHPrivateKey: key).sign([], namespace: "git")
                signingKey = key
            } catch {
                throw SetupFailure("git.signingKey (\(reference)): \(error)")
            }
        }
    }
}

extension GitTarget {
    /// The targets `image` is written to (only `only` when given), with their credentials.
    public static func targets(for image: ImageName, only: String? = nil, in configuration: Configuration) throws(SetupFailure)
        -> [GitTarget]
    {
        guard configuration.images.contains(where: { $0.name == image }) else {
            throw SetupFailure("\(image) is not listed under images in the configuration; add it with the targets it goes to")
        }
        var targets = configuration.targets(for: image)
        if let only {
            targets = targets.filter { $0.name == only }
            guard !targets.isEmpty else {
                throw SetupFailure(
                    "\(image) does not go to a target named \"\(only)\"; its targets are \(configuration.targets(for: image).map(\.name).joined(separator: ", "))"
                )
            }
        }
        var result: [GitTarget] = []
        for target in targets {
            guard let repository = configuration.repos.first(where: { $0.name == target.repo }) else {
                throw SetupFailure("target \(target.name) names the unknown repo \(target.repo)")
            }
            var gitTarget = GitTarget(
                name: target.name, repository: repository.name, url: repository.url, branch: target.branch ?? repository.branch,
                paths: target.paths, mode: target.mode == .commit ? .commit : .branch, credentials: try GitCredentials(repository))
            gitTarget.password = try ConfiguredForge.installationTokens(for: repository, in: configuration)
            result.append(gitTarget)
        }
        return result
    }
}

extension GitCredentials {
    /// The user most Git hosts take SSH connections as.
    static let defaultSSHUser = "git"

    /// A repository's SSH key or password, and its known hosts.
    public init(_ repository: Repository) throws(SetupFailure) {
        self.init()
        do {
            if let key = repository.sshKey {
                method = .sshKey(user: repository.username ?? Self.defaultSSHUser, privateKey: try key.resolve().revealed, passphrase: nil)
            } else if let password = repository.password {
                method = .userPassword(user: repository.username ?? "imagebump", password: try password.resolve().revealed)
            }
        } catch {
            throw SetupFailure("repo \(repository.name): \(error)")
        }
        if let path = repository.knownHosts {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SetupFailure("repo \(repository.name): the known_hosts file \(path) cannot be read")
            }
            knownHosts = text
        }
        acceptUnknownHostKeys = repository.acceptUnknownHostKeys
    }
}

extension MergeRequestOptions {
    /// A configured target's merge-request options (none for a target not configured).
    public init(target: String, in configuration: Configuration) {
        guard let target = configuration.targets.first(where: { $0.name == target }) else {
            self.init()
            return
        }
        let method: MergeMethod
        switch target.mergeMethod {
        case .merge: method = .merge
        case .squash: method = .squash
        case .rebase: method = .rebase
        }
        self.init(labels: target.labels, reviewers: target.reviewers, autoMerge: target.autoMerge, draft: target.draft, mergeMethod: method)
    }
}

/// The forge clients of configured repositories.
public enum ConfiguredForge {
    /// For an HTTPS repository whose forge is a GitHub App and that has no password or key of
    /// its own: the App's installation token as its Git password (no separate token needed).
    static func installationTokens(for repository: Repository, in configuration: Configuration) throws(SetupFailure)
        -> (@Sendable () async throws -> String)?
    {
        guard let settings = repository.forge, let app = settings.app, repository.password == nil, repository.sshKey == nil,
            repository.url.hasPrefix("https://") || repository.url.hasPrefix("http://")
        else { return nil }
        let key: String
        do { key = try app.privateKey.resolve().revealed } catch { throw SetupFailure("repo \(repository.name): forge app \(error)") }
        let tokens = GitHubAppTokens(
            credentials: GitHubAppCredentials(appID: app.id, installationID: app.installation, privateKey: key),
            transport: RetryingTransport(CurlClient(settings: HTTPClientSettings(caBundle: configuration.git.caBundle))),
            apiBaseURL: settings.api)
        return { try await tokens.token() }
    }

    /// The forge client for a repository with a `forge:` block (nil without one): retries and
    /// request logs around libcurl, the vendor's authentication (a token, or a GitHub App's
    /// installation tokens).
    public static func make(
        for repositoryName: String, in configuration: Configuration, logger: Logger, observe: MeasuringTransport.Observer? = nil
    ) throws(SetupFailure) -> (any Forge)? {
        guard let repository = configuration.repos.first(where: { $0.name == repositoryName }), let settings = repository.forge else {
            return nil
        }
        let curl = CurlClient(settings: HTTPClientSettings(caBundle: configuration.git.caBundle))
        let base: any HTTPTransport = observe.map { MeasuringTransport(curl, observe: $0) } ?? curl
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
                case .bitbucket:
                    // An app password or API token with its user: Basic; an access token: Bearer.
                    let authorization =
                        settings.username.map { "Basic " + Data("\($0):\(token)".utf8).base64EncodedString() } ?? "Bearer \(token)"
                    transport = AuthorizingTransport(layered, headers: [("Authorization", authorization)])
                }
            }
        } catch {
            throw SetupFailure("repo \(repository.name): forge \(error)")
        }
        switch settings.kind {
        case .github: return GitHubForge(transport: transport, apiBaseURL: settings.api, repository: settings.project)
        case .gitlab: return GitLabForge(transport: transport, apiBaseURL: settings.api, project: settings.project)
        case .gitea: return GiteaForge(transport: transport, apiBaseURL: settings.api, repository: settings.project)
        case .bitbucket: return BitbucketForge(transport: transport, apiBaseURL: settings.api, repository: settings.project)
        }
    }
}
