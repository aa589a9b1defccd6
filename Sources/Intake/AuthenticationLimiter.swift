import Foundation
import Synchronization

/// Failed authentications per peer address, as token buckets: each address may fail `burst`
/// times, then once every `refill`; past that its requests are answered `429` with
/// `Retry-After` and their credentials are not even checked (a guess is not evaluated).
/// Successes take nothing from the bucket, and an address that never fails is never limited.
/// Bounded: at most `capacity` addresses are tracked, the fullest buckets dropped first.
public final class AuthenticationLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let burst: Double
    let refill: Duration
    let capacity: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(burst: Int = 10, refill: Duration = .seconds(1), capacity: Int = 10_000) {
        self.burst = Double(max(1, burst))
        self.refill = refill
        self.capacity = max(1, capacity)
    }

    /// Seconds to wait before `address` may try again, or nil when it may try now.
    public func retryAfter(_ address: String, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            guard var bucket = buckets[address] else { return nil }
            refresh(&bucket, now)
            buckets[address] = bucket
            guard bucket.tokens < 1 else { return nil }
            let missing = (1 - bucket.tokens) * seconds(refill)
            return max(1, Int(missing.rounded(.up)))
        }
    }

    /// Notes a failed authentication from `address`.
    public func failed(_ address: String, now: ContinuousClock.Instant = .now) {
        buckets.withLock { buckets in
            var bucket = buckets[address] ?? Bucket(tokens: burst, updated: now)
            refresh(&bucket, now)
            bucket.tokens = max(0, bucket.tokens - 1)
            if buckets[address] == nil, buckets.count >= capacity {
                // Forget the addresses closest to a full bucket: they matter least.
                for (key, _) in buckets.sorted(by: { $0.value.tokens > $1.value.tokens }).prefix(capacity / 10 + 1) {
                    buckets[key] = nil
                }
            }
            buckets[address] = bucket
        }
    }

    private func refresh(_ bucket: inout Bucket, _ now: ContinuousClock.Instant) {
        let elapsed = seconds(now - bucket.updated)
        bucket.tokens = min(burst, bucket.tokens + elapsed / seconds(refill))
        bucket.updated = now
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
