import Foundation

/// `git http-backend` behind lighttpd (Debian's `lighttpd`), with Basic authentication: a real
/// smart-HTTP remote that answers as fast as a forge's, for tests where timing matters (a busy
/// branch). Serves every repository under `root` as `http://127.0.0.1:PORT/NAME.git`.
public final class GitHTTPBackend: Sendable {
    public let port: Int
    private let pid: Int32

    public init(root: URL, user: String, password: String) throws {
        let directory = try TemporaryDirectory.make("imagebump-lighttpd")
        // lighttpd takes the socket bound to port 0 here (systemd-style socket activation).
        let (listener, port) = try LoopbackSocket.listen(backlog: 128)
        defer { close(listener) }
        self.port = port
        let users = directory.appendingPathComponent("users")
        try "\(user):\(password)\n".write(to: users, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("lighttpd.conf")
        try """
        server.document-root = "\(root.path)"
        server.systemd-socket-activation = "enable"
        server.modules = ("mod_auth", "mod_authn_file", "mod_alias", "mod_setenv", "mod_cgi")
        server.errorlog = "\(directory.appendingPathComponent("error.log").path)"
        alias.url = ("/" => "/usr/lib/git-core/git-http-backend/")
        cgi.assign = ("" => "")
        setenv.add-environment = ("GIT_PROJECT_ROOT" => "\(root.path)", "GIT_HTTP_EXPORT_ALL" => "1")
        auth.backend = "plain"
        auth.backend.plain.userfile = "\(users.path)"
        auth.require = ("/" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
        """.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The listener arrives as standard input and becomes descriptor 3 (LISTEN_FDS=1);
        // `exec` keeps the shell's pid for LISTEN_PID.
        process.arguments = ["-c", #"exec 3<&0 </dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec /usr/sbin/lighttpd -D -f "$0""#, config.path]
        process.standardInput = FileHandle(fileDescriptor: listener, closeOnDealloc: false)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(10)
        while (try? Command.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"]).status) != 0 {
            guard Date() < deadline else {
                kill(pid, SIGKILL)
                throw GitFixture.Failure(description: "lighttpd did not listen on 127.0.0.1:\(port)")
            }
            usleep(20_000)
        }
    }

    deinit { kill(pid, SIGKILL) }
}
