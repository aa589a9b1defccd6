import Foundation

extension Configuration {
    /// `stateDir`, else `$XDG_STATE_HOME/imagebump`, else `~/.local/state/imagebump`.
    public var resolvedStateDirectory: String {
        if let stateDirectory { return stateDirectory }
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return "\(state)/imagebump" }
        return "\(environment["HOME"] ?? FileManager.default.currentDirectoryPath)/.local/state/imagebump"
    }

    /// Every secret of the repositories, the signing key and the registries that resolves now: what the logs and the journal redact.
    public func resolvableSecrets() -> [String] {
        repos.flatMap { repository in
            [repository.password, repository.sshKey, repository.forge?.token, repository.forge?.app?.privateKey].compactMap {
                try? $0?.resolve().revealed
            }
        } + ([git.signingKey, journal.password, journal.urlSecret] + registries.map(\.password)).compactMap { try? $0?.resolve().revealed }
    }
}

/// A configured thing that cannot be set up now (a secret that does not resolve, a known_hosts
/// file that cannot be read, an image or target the configuration does not list), said in
/// a sentence that names it.
public struct SetupFailure: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
