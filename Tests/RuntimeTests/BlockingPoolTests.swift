import Foundation
import Runtime
import Synchronization
import Testing

/// Blocking work runs on a bounded pool: 64 calls at once never take more than its threads,
/// and every one finishes, in turn.
@Suite struct BlockingPoolTests {
    @Test func manyBlockingCallsShareABoundedPool() async throws {
        let pool = BlockingPool(maximumThreads: 4)
        let counts = Counts()
        let results = await withTaskGroup(of: Int.self) { group in
            for index in 0..<64 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        pool.run {
                            let now = counts.running.add(1, ordering: .relaxed).newValue
                            _ = counts.most.max(now, ordering: .relaxed)
                            usleep(2_000)  // blocking work, as a transfer would be
                            counts.running.subtract(1, ordering: .relaxed)
                            continuation.resume(returning: index)
                        }
                    }
                }
            }
            var all: [Int] = []
            for await value in group { all.append(value) }
            return all
        }
        #expect(Set(results) == Set(0..<64))
        #expect(counts.most.load(ordering: .relaxed) <= 4)
        #expect(pool.busiest <= 4)
    }
}

/// How many pool calls run at once, and the most seen.
final class Counts: Sendable {
    let running = Atomic<Int>(0)
    let most = Atomic<Int>(0)
}
