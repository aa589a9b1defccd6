import Foundation

/// Answers handed to the event loops together. A thread that gives many answers in a row (the
/// journal's completion thread, after a group commit) runs them inside ``run(_:)``: each loop
/// with new answers is woken once when the batch ends, instead of once per answer (every wake
/// is a `write` to the loop's eventfd and an `epoll_wait` return on the other side).
public enum AnswerBatch {
    /// The loops to wake when the current thread's batch ends.
    final class Pending {
        var loops: [EventLoop] = []
    }

    /// Where a thread keeps its `Pending` while it runs a batch.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `body`; the answers it gives wake their event loops when it returns.
    public static func run(_ body: () -> Void) {
        let pending = Pending()
        let outer = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(pending).toOpaque())
        body()
        pthread_setspecific(key, outer)
        withExtendedLifetime(pending) {
            for loop in pending.loops { loop.poke() }
        }
    }

    /// Inside a batch on this thread: notes that `loop` must be woken at its end (true).
    /// Outside one: false, and the caller wakes the loop now.
    static func `defer`(_ loop: EventLoop) -> Bool {
        guard let raw = pthread_getspecific(key) else { return false }
        let pending = Unmanaged<Pending>.fromOpaque(raw).takeUnretainedValue()
        if !pending.loops.contains(where: { $0 === loop }) { pending.loops.append(loop) }
        return true
    }
}
