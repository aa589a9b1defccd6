import Synchronization

/// A gate a test opens when it is ready: until then, ``wait()`` holds whoever waits (polling,
/// with a deadline, so a test that forgets to open it fails instead of hanging).
public final class TestGate: Sendable {
    private let isOpen = Mutex(false)

    public init() {}

    public func open() { isOpen.withLock { $0 = true } }

    public func wait(deadline: Duration = .seconds(120)) async {
        let end = ContinuousClock.now + deadline
        while !isOpen.withLock({ $0 }), ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(5)) }
    }
}
