import Foundation

/// The threads request handlers run on. Handlers are async, but they must not wait for
/// Swift's shared cooperative pool (two threads on a two-core machine): other work, such as a
/// libgit2 push, can hold it for a while, and intake must keep answering meanwhile.
final class HandlerExecutor: TaskExecutor, @unchecked Sendable {  // `jobs` is guarded by `condition`
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(threads: Int) {
        for _ in 0..<threads {
            Thread.detachNewThread { [self] in
                Thread.current.name = "http-handler"
                run()
            }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
