import Foundation

/// The process's open-file limit against `server.maxConnections`: every connection is a
/// descriptor, and the journal, Git transfers and forge calls need some of their own.
enum DescriptorLimit {
    /// Descriptors kept for everything that is not a connection.
    static let reserve = 64

    /// A warning when `maximumConnections` connections would exhaust the limit.
    static func warning(maximumConnections: Int) -> String? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { return nil }
        let soft = Int(limit.rlim_cur)
        guard maximumConnections + reserve > soft else { return nil }
        return
            "server.maxConnections is \(maximumConnections), but this process may open only \(soft) files (ulimit -n); past about \(max(0, soft - reserve)) connections new ones wait in the kernel. Raise the limit (ulimit -n, LimitNOFILE=, the container runtime's nofile) or lower server.maxConnections"
    }
}
