import Events
import Foundation
import ImageReference
import Manifests
import Policy

/// imagebump's whole configuration, as read from one YAML file (`config/imagebump.yaml` is the
/// documented example). Defaults live here and nowhere else.
public struct Configuration: Sendable, Hashable {
    /// What works but is probably not meant (`validate` prints them; `serve` logs them).
    public var warnings: [ConfigProblem] = []
    /// Every secret the file names, where, and how long it must be.
    public var secretUses: [SecretUse] = []

    /// Resolves every secret (as `serve` will) and says which are unset, unreadable, empty or
    /// too short, each at its line; never what a secret is.
    public func secretProblems(environment: [String: String] = ProcessInfo.processInfo.environment) -> [ConfigProblem] {
        secretUses.compactMap { use -> ConfigProblem? in
            let message: String
            do throws(SecretError) {
                let value = try use.reference.resolve(environment: environment).revealed
                let length = value.utf8.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }.count
                guard length < use.minimumLength else { return nil }
                message =
                    "\(use.reference) has \(length) non-whitespace characters; this secret needs at least \(use.minimumLength) (make one with: openssl rand -hex 32)"
            } catch {
                message = "\(error.reason) (or run validate --no-secrets on a machine without the secrets)"
            }
            return ConfigProblem(file: use.file, line: use.line, column: use.column, keyPath: use.keyPath, message: message)
        }
    }

    public var log = LogSettings()
    public var scan = ScanSettings()
    /// Where imagebump keeps its repository caches (and, later, its journal); nil means
    /// `$XDG_STATE_HOME/imagebump` or `~/.local/state/imagebump`.
    public var stateDirectory: String?
    public var git = GitSettings()
    public var server = ServerSettings()
    public var receivers: [Receiver] = []
    /// Attempts per target before an event is marked failed.
    public var workerAttempts = 5
    /// Updates for one repository arriving within this many milliseconds share one commit.
    public var batchWindowMilliseconds = 2000
    /// How long one event's retries may take in all, across every layer (the workers' tries,
    /// HTTP retries of forge calls): past it, nothing waits to try again.
    public var retryBudgetSeconds = 900
    /// How often the forge is asked about merge requests promotions wait for (the fallback when
    /// a merge webhook is lost); 0 turns polling off.
    public var mergePollSeconds = 300
    /// How often every image without its own `poll` is read from its registry (the catch-up
    /// for lost webhooks); 0 (the default) means webhooks only.
    public var pollIntervalSeconds = 0
    /// How registries are reached (credentials, CA bundles, plain HTTP).
    public var registries: [RegistrySettings] = []
    public var journal = JournalSettings()
    public var repos: [Repository] = []
    public var targets: [Target] = []
    public var images: [ImageSettings] = []
    public var promotions: [PromotionSettings] = []

    public init() {}

    /// Flux `$imagepolicy` names mapped to their images, for marker comments.
    public var fluxPolicies: [String: ImageName] {
        var map: [String: ImageName] = [:]
        for image in images { for policy in image.fluxPolicies { map[policy] = image.name } }
        return map
    }

    /// The extraction options this configuration implies.
    public var extractionOptions: ExtractionOptions {
        ExtractionOptions(fluxPolicies: fluxPolicies, maximumNodes: scan.maximumYAMLNodes)
    }

    /// The targets an image goes to (all targets when the image names none).
    public func targets(for image: ImageName) -> [Target] {
        guard let settings = images.first(where: { $0.name == image }), !settings.targets.isEmpty else { return targets }
        return targets.filter { settings.targets.contains($0.name) }
    }
}

/// Logging: level and line format.
public struct LogSettings: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable, CaseIterable { case logfmt, json }
    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public var level = "info"
    public var format = Format.logfmt
}

/// Where `imagebump serve` listens and its limits.
public struct ServerSettings: Sendable, Hashable {
    public var listen = "0.0.0.0"
    public var port = 8080
    public var maximumBodyBytes = 1 << 20
    public var maximumConnections = 512
    public var headerTimeoutSeconds = 10
    public var admin = AdminSettings()
}

/// The admin listener: the status API, metrics and the operator actions (approve, retry),
/// apart from the public port that registries and forges post to.
public struct AdminSettings: Sendable, Hashable {
    public var listen = "127.0.0.1"
    public var port = 8081
    /// Required for every write (approve, retry); without it those are refused.
    public var token: SecretReference?
    /// Also require the token for reads (when the admin port is reachable by others).
    public var requireTokenForReads = false
}

/// A webhook receiver: `POST /hooks/NAME`.
public struct Receiver: Sendable, Hashable {
    /// The sender types, as `receivers[].type` names them.
    static var typeNames: String { ReceiverType.allCases.map(\.rawValue).joined(separator: ", ") }
    /// Non-whitespace bytes every receiver secret needs (URL tokens: 32, see `pathTokenWeakness`).
    public static let minimumSecretLength = 16

    /// Why a URL token is too weak to stand in for a signature, or nil: it must carry at least
    /// 32 random bytes (64 hex digits, or 43 base64url characters, as `openssl rand -hex 32`
    /// or `openssl rand -base64 32` print them) in URL-safe characters.
    public static func pathTokenWeakness(_ token: String) -> String? {
        let make = "make one with `openssl rand -hex 32`"
        let hex = token.unicodeScalars.allSatisfy { "0123456789abcdefABCDEF".unicodeScalars.contains($0) }
        let urlSafe = token.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.~".unicodeScalars.contains($0))
        }
        guard urlSafe else { return "the URL token may hold only letters, digits and - _ . ~ (it travels in the URL); \(make)" }
        let bits = token.count * (hex ? 4 : 6)
        guard bits >= 256 else {
            return
                "the URL token is the only proof a \(hex ? "hex " : "")sender gives: it needs 32 random bytes (\(hex ? 64 : 43)+ characters), this one has \(token.count); \(make)"
        }
        guard Set(token).count >= 12 else { return "the URL token repeats a few characters; it does not look random; \(make)" }
        return nil
    }

    public var name: String
    public var type: ReceiverType
    /// Nil only for a `gcr` receiver checking Pub/Sub's OIDC tokens (`audience`).
    public var secret: SecretReference?
    /// `gcr` with Pub/Sub push: the OIDC token's audience, the service account it must be
    /// signed as, and where the issuer's keys are (Google's by default).
    public var audience: String?
    public var serviceAccount: String?
    public var jwksURL: String?
    /// The header carrying the secret, for senders with custom headers (acr, ecr).
    public var header: String?
    /// The registry host for payloads that do not name a public one (distribution, nexus).
    public var registryHost: String?
    /// Nexus repository → Docker connector host:port.
    public var nexusHosts: [String: String] = [:]
}

/// How imagebump writes commits.
public struct GitSettings: Sendable, Hashable {
    public var authorName = "imagebump"
    public var authorEmail = "imagebump@localhost"
    /// Defaults to the author.
    public var committerName: String?
    public var committerEmail: String?
    /// The commit subject; `{image}`, `{tag}`, `{digest}`, `{reference}`, `{target}`, `{location}`.
    public var subject = "Bump {image} to {tag} in {location}"
    /// A PEM file of certificate authorities for HTTPS remotes (verification is always on).
    public var caBundle: String?
    /// The deadline of every network step of a fetch or push (connect, each send and receive).
    public var timeoutSeconds = 60
    /// Attempts at a push refused because someone else pushed first.
    public var pushAttempts = 50
    /// An SSH private key (Ed25519 or ECDSA P-256, OpenSSH format, no passphrase) that signs
    /// every commit imagebump writes, in the `sshsig` format `git verify-commit` checks with
    /// `gpg.format=ssh`.
    public var signingKey: SecretReference?
}

/// Limits for reading manifests.
public struct ScanSettings: Sendable, Hashable {
    /// Files larger than this many bytes are skipped.
    public var maximumFileSize = 1 << 20
    /// Upper bound on YAML nodes walked per file (bounds alias bombs).
    public var maximumYAMLNodes = 200_000
}

/// An environment Git repository.
public struct Repository: Sendable, Hashable {
    public var name: String
    /// A local path, `file://`, `https://` or `ssh://` URL, without credentials.
    public var url: String
    public var branch = "main"
    public var username: String?
    /// Password or token for HTTPS.
    public var password: SecretReference?
    /// Private key for SSH.
    public var sshKey: SecretReference?
    /// An OpenSSH known_hosts file listing the SSH server's host key.
    public var knownHosts: String?
    /// Accept SSH host keys that are not in known_hosts (not recommended).
    public var acceptUnknownHostKeys = false
    /// The forge that hosts the repository, for merge requests (targets in `branch` mode).
    public var forge: ForgeSettings?
}

/// A forge's REST API and the repository's name there.
public struct ForgeSettings: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case github, gitlab, gitea, bitbucket }

    public var kind: Kind
    /// The API base: `https://api.github.com`, `https://HOST/api/v3`, `https://gitlab.com/api/v4`,
    /// `https://HOST/api/v1`. Defaults for github and gitlab.
    public var api: String
    /// `owner/name` (GitHub, Gitea) or the project path or id (GitLab).
    public var project: String
    /// A token (PAT, project or repository token); or, for GitHub, an App below.
    public var token: SecretReference?
    /// GitHub App authentication: app id, installation id, private key (PEM, a secret).
    public var app: (id: String, installation: String, privateKey: SecretReference)?
    /// Bitbucket Cloud with Basic authentication: the Atlassian user (or e-mail, for an API
    /// token) whose app password or API token `token` is. Without it, `token` is a Bearer
    /// token (a repository, project or workspace access token).
    public var username: String?

    public static func == (lhs: ForgeSettings, rhs: ForgeSettings) -> Bool {
        lhs.kind == rhs.kind && lhs.api == rhs.api && lhs.project == rhs.project && lhs.token == rhs.token && lhs.username == rhs.username
            && lhs.app?.id == rhs.app?.id && lhs.app?.installation == rhs.app?.installation && lhs.app?.privateKey == rhs.app?.privateKey
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(api)
        hasher.combine(project)
    }

    public static func defaultAPI(_ kind: Kind) -> String? {
        switch kind {
        case .github: "https://api.github.com"
        case .gitlab: "https://gitlab.com/api/v4"
        case .bitbucket: "https://api.bitbucket.org/2.0"
        case .gitea: nil
        }
    }
}

/// Where one image is written: a repository, a branch, and the paths inside it.
public struct Target: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Push the commit straight to the branch.
        case commit
        /// Push an update branch and open a merge request.
        case branch
    }

    public var name: String
    public var repo: String
    /// Defaults to the repository's branch.
    public var branch: String?
    public var paths: [PathGlob] = []
    public var mode = Mode.commit
    /// For `branch` mode: how the merge request is made.
    public var labels: [String] = []
    public var reviewers: [String] = []
    public var autoMerge = false
    public var draft = false
    /// How auto-merge merges: `merge` (a merge commit), `squash` or `rebase`; the repository
    /// must allow it (a squash-only repository refuses `merge`).
    public var mergeMethod = MergeMethod.merge

    public enum MergeMethod: String, Sendable, Hashable, CaseIterable {
        case merge, squash, rebase
    }
}

/// Settings for one image.
public struct ImageSettings: Sendable, Hashable {
    public var name: ImageName
    /// Target names; empty means every target.
    public var targets: [String] = []
    /// Flux image policies (`namespace:policy`) that stand for this image in marker comments.
    public var fluxPolicies: [String] = []
    /// Which tags the image's targets take (any tag, never a lower one, by default).
    public var policy = TagPolicy.any
    /// Per-target overrides of ``policy``.
    public var targetPolicies: [String: TagPolicy] = [:]
    /// Seconds between two reads of the registry's tags; nil takes `workers.pollInterval`, 0 never.
    public var pollSeconds: Int?
    /// Check every webhook's tag (and digest) against the registry before writing it.
    public var verify = false

    /// The policy that applies to the image in one target.
    public func policy(for target: String) -> TagPolicy { targetPolicies[target] ?? policy }
}

/// Where a secret is named in the configuration, and what it must be.
public struct SecretUse: Sendable, Hashable {
    public let reference: SecretReference
    public let file: String
    public let line: Int
    public let column: Int
    public let keyPath: String
    /// Non-whitespace bytes it needs (16 for receiver secrets, 32 for URL tokens, else 1).
    public let minimumLength: Int
}
