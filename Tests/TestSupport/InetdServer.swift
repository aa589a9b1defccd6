import Foundation
import Synchronization

/// A server program started once per connection, inetd style (`sshd -i`), on a socket the test
/// bound to port 0 itself: no port is picked by probing, so no other process can take it in
/// between. Every child is killed when the server is released.
public final class InetdServer: Sendable {
    public let port: Int
    private let listener: Int32
    private let children: Children

    /// The pids of the programs started, shared with the accepting thread.
    private final class Children: Sendable {
        let pids = Mutex<[pid_t]>([])
    }

    public init(executable: String, arguments: [String]) throws {
        (listener, port) = try LoopbackSocket.listen()
        let (listener, children) = (self.listener, Children())
        self.children = children
        Thread.detachNewThread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }  // the listener was closed
                if let pid = try? Self.spawn(executable, arguments, on: connection) { children.pids.withLock { $0.append(pid) } }
                close(connection)
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for pid in children.pids.withLock({ $0 }) { kill(pid, SIGKILL) }
    }

    /// Starts the program with the connection as its standard input and output, detached
    /// through `sh` (sshd closes the descriptors Foundation's `Process` watches its children
    /// with); returns its pid.
    private static func spawn(_ executable: String, _ arguments: [String], on connection: Int32) throws -> pid_t? {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        // An asynchronous list's standard input is /dev/null before its own redirections: the
        // connection goes through descriptor 3.
        shell.arguments = ["-c", #"exec 3<&0; "$0" "$@" <&3 >&3 2>/dev/null 3>&- & echo $!"#, executable] + arguments
        shell.standardInput = FileHandle(fileDescriptor: connection, closeOnDealloc: false)
        let out = Pipe()
        shell.standardOutput = out
        try shell.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
