import Foundation
import Synchronization

/// Runs blocking work (a libcurl transfer, libgit2's file and network I/O) on a bounded pool of
/// threads of its own and waits for it without holding a thread. Dispatch's global queues would
/// not do: on Linux they share their few threads (one per core) with Swift's concurrency, and a
/// blocked one is replaced only after about a second, so a few slow transfers would stall every
/// actor. The pool has at most ``BlockingPool/maximumThreads`` threads (made as work comes);
/// work beyond that waits its turn, in order. Every network call in it has a deadline of its own
/// (Git's socket timeouts, libcurl's), so no turn waits forever.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        BlockingPool.shared.run { continuation.resume(returning: work()) }
    }
}

/// The threads behind ``runBlocking(_:)``.
public final class BlockingPool: Sendable {
    /// 16 threads, or `IMAGEBUMP_BLOCKING_THREADS` (the test run sets more: its suites share one
    /// process and some hold threads on purpose, on remotes that never answer).
    public static let shared = BlockingPool(
        maximumThreads: ProcessInfo.processInfo.environment["IMAGEBUMP_BLOCKING_THREADS"].flatMap { Int($0) }.map { min(max($0, 1), 256) } ?? 16)

    public let maximumThreads: Int
    private let state = Mutex<(queue: [@Sendable () -> Void], threads: Int, idle: Int, busiest: Int)>(([], 0, 0, 0))
    private let ready = DispatchSemaphore(value: 0)

    public init(maximumThreads: Int) { self.maximumThreads = max(1, maximumThreads) }

    /// The most threads that were busy at once so far.
    public var busiest: Int { state.withLock { $0.busiest } }

    private enum Hand { case wakeIdle, startThread, queued }

    /// Runs `work` on one of the pool's threads, as soon as one is free.
    public func run(_ work: @escaping @Sendable () -> Void) {
        let hand = state.withLock { state -> Hand in
            state.queue.append(work)
            if state.idle > 0 {
                state.idle -= 1
                return .wakeIdle
            }
            guard state.threads < maximumThreads else { return .queued }  // a busy thread takes it next
            state.threads += 1
            state.busiest = max(state.busiest, state.threads)
            return .startThread
        }
        switch hand {
        case .wakeIdle: ready.signal()
        case .startThread:
            Thread.detachNewThread { [self] in
                Thread.current.name = "imagebump-blocking"
                loop()
            }
        case .queued: break
        }
    }

    private func loop() {
        while true {
            let next = state.withLock { state -> (@Sendable () -> Void)? in state.queue.isEmpty ? nil : state.queue.removeFirst() }
            if let next {
                next()
                continue
            }
            state.withLock { $0.idle += 1 }
            ready.wait()
        }
    }
}
