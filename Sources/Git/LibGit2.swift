import CLibGit2

/// Process-wide libgit2 set-up: `git_libgit2_init` runs exactly once, before any handle exists.
public enum LibGit2 {
    private static let initialised: Bool = {
        git_libgit2_init()
        imagebump_git_set_user_agent("imagebump")
        imagebump_git_set_strict_hash_verification(1)
        // Sockets with TCP_NODELAY and deadlines for every fetch and push (see shim.h).
        imagebump_git_register_socket_stream(Int32(networkTimeoutMilliseconds))
        return true
    }()

    /// The deadline of a connect and of each send or receive of a fetch or push (60 s until
    /// ``setNetworkTimeout(_:)``): libgit2 1.5 has none of its own, so a server that accepts
    /// and never answers would hold a lane forever.
    static let networkTimeoutMilliseconds = 60_000

    /// Sets the deadline of every network step of later transfers (`git.timeoutSeconds`).
    public static func setNetworkTimeout(_ timeout: Duration) {
        ensureInitialised()
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        imagebump_git_register_socket_stream(Int32(clamping: max(1, milliseconds)))
    }

    /// Initialises libgit2 if it is not yet; every entry point of this module calls it.
    static func ensureInitialised() {
        _ = initialised
    }

    /// Whether this libgit2 build speaks HTTPS and SSH (Debian's does both).
    public static var supportsHTTPS: Bool {
        ensureInitialised()
        return git_libgit2_features() & Int32(GIT_FEATURE_HTTPS.rawValue) != 0
    }

    public static var supportsSSH: Bool {
        ensureInitialised()
        return git_libgit2_features() & Int32(GIT_FEATURE_SSH.rawValue) != 0
    }

    /// Uses this CA bundle (a file, a directory, or both) to verify HTTPS servers. Verification
    /// itself is never turned off.
    public static func useCertificateAuthorities(file: String?, directory: String?) throws(GitError) {
        ensureInitialised()
        try check(imagebump_git_set_ssl_cert_locations(file, directory), "git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)")
    }
}
