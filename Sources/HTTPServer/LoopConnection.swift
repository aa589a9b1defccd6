import CLinux
import Foundation

/// A connection's state (loop thread only).
final class LoopConnection {
    let socket: Int32
    let serial: UInt64
    /// The peer's IP address.
    var address = ""
    var parser: HTTPRequestParser
    var deadline: ContinuousClock.Instant
    var inHead = false
    var inBody = false
    var busy = false
    var outbox: [UInt8] = []
    var closeWhenWritten = false
    var interest: UInt32 = 0
    /// Inside ``process(_:)`` now: an answer given from within it does not process again
    /// (pipelined requests are taken in a loop, never by recursion).
    var processing = false
    /// Waiting in the loop's `ready` list for its next turn.
    var queued = false

    init(socket: Int32, serial: UInt64, limits: HTTPLimits, deadline: ContinuousClock.Instant) {
        self.socket = socket
        self.serial = serial
        self.parser = HTTPRequestParser(limits: limits)
        self.deadline = deadline
    }

    /// The IPv4 address of a connected socket's peer.
    static func peerAddress(_ socket: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let found = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(socket, $0, &length) == 0 }
        }
        guard found else { return "" }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        _ = inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
        return String(decoding: text.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)
    }
}
