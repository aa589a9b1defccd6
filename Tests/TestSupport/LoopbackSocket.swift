import Foundation

/// Plain TCP sockets on 127.0.0.0/8 for tests that talk to servers byte by byte.
public enum LoopbackSocket {
    static func address(_ host: String, _ port: Int) -> sockaddr_in {
        sockaddr_in(
            sin_family: sa_family_t(AF_INET), sin_port: UInt16(port).bigEndian, sin_addr: in_addr(s_addr: inet_addr(host)),
            sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
    }

    /// A listening socket on 127.0.0.1 at a port the kernel picked, and that port.
    public static func listen(backlog: Int32 = 16) throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var bound = address("127.0.0.1", 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && Glibc.listen(descriptor, backlog) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard listening else {
            close(descriptor)
            throw GitFixture.Failure(description: "cannot listen on 127.0.0.1")
        }
        return (descriptor, Int(UInt16(bigEndian: bound.sin_port)))
    }

    /// A socket connected to 127.0.0.1:`port`, from `source` (another loopback address) if given,
    /// with a receive timeout.
    public static func connect(port: Int, from source: String? = nil, receiveTimeout: Int = 5) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        if let source {
            var local = address(source, 0)
            let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, size) == 0 } }
            guard bound else {
                close(descriptor)
                throw GitFixture.Failure(description: "cannot bind to \(source)")
            }
        }
        var remote = address("127.0.0.1", port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, size) == 0 }
        }
        guard connected else {
            close(descriptor)
            throw GitFixture.Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
        var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }
}
