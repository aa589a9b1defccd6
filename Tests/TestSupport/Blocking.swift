import Foundation

/// Runs blocking work (sockets, waits) on a thread of its own and awaits it, so that it never
/// holds one of Swift concurrency's few cooperative threads (two on this machine): a server
/// under test needs those to run its handlers.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}
