import Foundation

/// Runs blocking work (a libcurl transfer, libgit2's file and network I/O) on a thread of its
/// own and waits for it without holding a thread. Dispatch's global queues would not do: on
/// Linux they share their few threads (one per core) with Swift's concurrency, and a blocked
/// one is replaced only after about a second, so a few slow transfers would stall every actor.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
