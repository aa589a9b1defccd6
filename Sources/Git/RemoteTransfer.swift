import CLibGit2
import Foundation

/// The outcome of pushing one reference.
public struct PushedReference: Sendable, Hashable {
    public let reference: String
    /// The server's refusal, or nil when the reference was updated.
    public let rejection: String?
}

/// State shared with libgit2's C callbacks for the length of one fetch or push.
private final class TransferContext {
    let credentials: GitCredentials
    let host: String
    let port: Int
    var credentialAttempts = 0
    var authenticationFailed = false
    var unknownHostKey = false
    var changedHostKey = false
    var pushed: [PushedReference] = []

    init(credentials: GitCredentials, url: String) {
        self.credentials = credentials
        let components = URLComponents(string: url)
        host = components?.host ?? ""
        port = components?.port ?? (components?.scheme == "ssh" ? 22 : 443)
    }
}

extension GitRepository {
    /// Fetches `refspecs` from `url` through an anonymous remote: the URL is never written to
    /// the repository's config, so nothing secret or stale stays on disk.
    public func fetch(url: String, refspecs: [String], credentials: GitCredentials) throws(GitError) {
        let context = TransferContext(credentials: credentials, url: url)
        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        Self.install(&options.callbacks, context)
        let remote = try anonymousRemote(url)
        let status = Self.withStrings(refspecs) { array in
            Self.withStrings(Self.preemptiveHeaders(url: url, credentials: credentials)) { headers in
                options.custom_headers = headers
                return withExtendedLifetime(context) { git_remote_fetch(remote.pointer, &array, &options, "imagebump fetch") }
            }
        }
        try Self.finish(status, "git_remote_fetch", context, url: url)
    }

    /// Pushes `refspecs` to `url` and reports each reference's outcome; a refusal for any
    /// reason other than a non-fast-forward is an error.
    @discardableResult
    public func push(url: String, refspecs: [String], credentials: GitCredentials) throws(GitError) -> [PushedReference] {
        let context = TransferContext(credentials: credentials, url: url)
        var options = git_push_options()
        try check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
        Self.install(&options.callbacks, context)
        options.callbacks.push_update_reference = { reference, status, payload in
            guard let payload, let reference else { return 0 }
            let context = Unmanaged<TransferContext>.fromOpaque(payload).takeUnretainedValue()
            context.pushed.append(PushedReference(reference: String(cString: reference), rejection: status.map { String(cString: $0) }))
            return 0
        }
        let remote = try anonymousRemote(url)
        let status = Self.withStrings(refspecs) { array in
            Self.withStrings(Self.preemptiveHeaders(url: url, credentials: credentials)) { headers in
                options.custom_headers = headers
                return withExtendedLifetime(context) { git_remote_push(remote.pointer, &array, &options) }
            }
        }
        try Self.finish(status, "git_remote_push", context, url: url)
        for refusal in context.pushed where refusal.rejection != nil {
            let message = refusal.rejection ?? ""
            // The reference moved since we fetched: another writer pushed first, or holds the ref's
            // lock right now (git receive-pack: "failed to update ref", "cannot lock ref").
            let lower = message.lowercased()
            let nonFastForward = [
                "non-fast-forward", "fetch first", "stale", "failed to update ref", "cannot lock ref", "failed to lock", "lease",
                "incorrect old value",
            ].contains { lower.contains($0) }
            throw GitError(
                nonFastForward ? .nonFastForward : .pushRejected, operation: "git_remote_push",
                message: "the server refused \(refusal.reference): \(message)")
        }
        return context.pushed
    }

    /// Connects to `url` for fetching and lists what it advertises, without fetching: proof
    /// that the repository is reachable with these credentials. Returns the number of references.
    public static func probe(url: String, credentials: GitCredentials) throws(GitError) -> Int {
        LibGit2.ensureInitialised()
        let context = TransferContext(credentials: credentials, url: url)
        var remote: OpaquePointer?
        try check(git_remote_create_detached(&remote, url), "git_remote_create_detached")
        guard let remote else { throw GitError(.other, operation: "git_remote_create_detached", message: "no remote returned") }
        let handle = GitHandle(remote) { git_remote_free($0) }
        var callbacks = git_remote_callbacks()
        try check(git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)), "git_remote_init_callbacks")
        install(&callbacks, context)
        let status = withExtendedLifetime(context) { git_remote_connect(handle.pointer, GIT_DIRECTION_FETCH, &callbacks, nil, nil) }
        try finish(status, "git_remote_connect", context, url: url)
        defer { git_remote_disconnect(handle.pointer) }
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try check(git_remote_ls(&heads, &count, handle.pointer), "git_remote_ls")
        return count
    }

    /// Basic credentials sent with the first request over HTTP(S), instead of after a `401`:
    /// each smart-HTTP request costs a round trip, and a fetch and a push are two each. On a busy
    /// branch that time is the window in which another writer's push makes ours non-fast-forward.
    static func preemptiveHeaders(url: String, credentials: GitCredentials) -> [String] {
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), case .userPassword(let user, let password) = credentials.method else {
            return []
        }
        return ["Authorization: Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    private func anonymousRemote(_ url: String) throws(GitError) -> GitHandle {
        var remote: OpaquePointer?
        try check(git_remote_create_anonymous(&remote, pointer, url), "git_remote_create_anonymous")
        guard let remote else { throw GitError(.other, operation: "git_remote_create_anonymous", message: "no remote returned") }
        return GitHandle(remote) { git_remote_free($0) }
    }

    private static func withStrings<T>(_ strings: [String], _ body: (inout git_strarray) -> T) -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return body(&array)
        }
    }

    /// Maps a transfer's status to an error, preferring what the callbacks learned (a refused
    /// password or host key) over libgit2's generic message. The URL is named without secrets.
    private static func finish(_ status: Int32, _ operation: String, _ context: TransferContext, url: String) throws(GitError) {
        guard status < 0 else { return }
        if context.changedHostKey {
            throw GitError(
                .hostKeyChanged, operation: operation,
                message:
                    "the SSH host key of \(context.host):\(context.port) does not match the one in known_hosts: someone may be intercepting the connection, or the host was re-keyed; check the new key with its owner and replace the known_hosts line (acceptUnknownHostKeys never accepts a changed key)",
                status: status)
        }
        if context.unknownHostKey {
            throw GitError(
                .hostKeyUnknown, operation: operation,
                message:
                    "the SSH host key of \(context.host):\(context.port) is not in known_hosts; add it (ssh-keyscan -p \(context.port) \(context.host)) or set acceptUnknownHostKeys",
                status: status)
        }
        if context.authenticationFailed {
            throw GitError(
                .authenticationFailed, operation: operation, message: "authentication failed for \(url); check the user name and token",
                status: status)
        }
        var error = GitError.last(status: status, operation: operation)
        if error.code == .authenticationFailed {
            error = GitError(
                .authenticationFailed, operation: operation, message: "authentication failed for \(url): \(error.message)", status: status)
        }
        throw error
    }

    private static func install(_ callbacks: inout git_remote_callbacks, _ context: TransferContext) {
        callbacks.payload = Unmanaged.passUnretained(context).toOpaque()
        callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            guard let out, let payload else { return -1 }
            let context = Unmanaged<TransferContext>.fromOpaque(payload).takeUnretainedValue()
            context.credentialAttempts += 1
            // One answer per kind: a second request for the same thing means it was refused.
            switch context.credentials.method {
            case .none:
                context.authenticationFailed = true
                return Int32(GIT_EAUTH.rawValue)
            case .userPassword(let user, let password):
                guard context.credentialAttempts == 1, allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else {
                    context.authenticationFailed = true
                    return Int32(GIT_EAUTH.rawValue)
                }
                return git_credential_userpass_plaintext_new(out, user, password)
            case .sshKey(let user, let key, let passphrase):
                let name = usernameFromURL.map { String(cString: $0) } ?? user
                if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0, context.credentialAttempts == 1 {
                    return git_credential_username_new(out, name)
                }
                guard context.credentialAttempts <= 2,
                    allowed & GIT_CREDENTIAL_SSH_MEMORY.rawValue != 0 || allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0
                else {
                    context.authenticationFailed = true
                    return Int32(GIT_EAUTH.rawValue)
                }
                return git_credential_ssh_key_memory_new(out, name, nil, key, passphrase)
            }
        }
        callbacks.certificate_check = { certificate, valid, _, payload in
            guard let certificate, let payload else { return Int32(GIT_ECERTIFICATE.rawValue) }
            let context = Unmanaged<TransferContext>.fromOpaque(payload).takeUnretainedValue()
            guard certificate.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else {
                // TLS: libgit2 has verified the chain against the CA bundle; never override it.
                return valid != 0 ? 0 : Int32(GIT_ECERTIFICATE.rawValue)
            }
            let hostKey = UnsafeRawPointer(certificate).assumingMemoryBound(to: git_cert_hostkey.self).pointee
            var verdict = KnownHosts.Verdict.unknown
            if hostKey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostKey.hostkey {
                let key = Array(UnsafeRawBufferPointer(start: raw, count: hostKey.hostkey_len))
                verdict = KnownHosts.verdict(key: key, host: context.host, port: context.port, in: context.credentials.knownHosts)
            }
            switch verdict {
            case .listed: return 0
            case .changed:
                // A key that contradicts known_hosts is a man in the middle until a person says
                // otherwise: never accepted, whatever acceptUnknownHostKeys says.
                context.changedHostKey = true
                return Int32(GIT_ECERTIFICATE.rawValue)
            case .unknown: break
            }
            if context.credentials.acceptUnknownHostKeys { return 0 }
            context.unknownHostKey = true
            return Int32(GIT_ECERTIFICATE.rawValue)
        }
    }
}
