import CoreMetrics
import HTTPClient
import Synchronization

/// The service's metrics, recorded through swift-metrics, and how `GET /metrics` renders them
/// (the executable plugs in swift-prometheus's text format).
///
/// - `imagebump_http_requests_total{route,status}`, `imagebump_http_request_duration_seconds{route}`
/// - `imagebump_deliveries_total{receiver,outcome}`: accepted, duplicate, ignored, unauthorized, undecodable
/// - `imagebump_events_finished_total{status}`: done, failed, ignored
/// - `imagebump_writebacks_total{target,outcome}`: pushed, up_to_date, failed; `imagebump_writeback_duration_seconds{target}`
/// - `imagebump_batch_events`: events per write-back; `imagebump_pending_jobs`: jobs waiting in the lanes
public struct ServiceMetrics: Sendable {
    package let factory: any MetricsFactory
    /// The metrics in the Prometheus text exposition format.
    package let exposition: @Sendable () -> [UInt8]

    /// Counters and timers made once per label and dimensions (making one costs a registry lookup).
    private final class Cache: Sendable {
        let counters = Mutex<[Key: Counter]>([:])
        let timers = Mutex<[Key: Timer]>([:])
    }
    private let cache = Cache()

    /// A label and up to two dimensions (what every metric here has), hashed without building a
    /// string: this runs once or twice per request.
    private struct Key: Hashable {
        let label: String
        let first: String
        let firstValue: String
        let second: String
        let secondValue: String
        let more: [String]

        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            (first, firstValue) = dimensions.first ?? ("", "")
            (second, secondValue) = dimensions.count > 1 ? dimensions[1] : ("", "")
            more = dimensions.count > 2 ? dimensions.dropFirst(2).flatMap { [$0.0, $0.1] } : []
        }
    }

    public init(factory: any MetricsFactory, exposition: @escaping @Sendable () -> [UInt8]) {
        self.factory = factory
        self.exposition = exposition
    }

    /// Records nothing, renders nothing.
    public static let disabled = ServiceMetrics(factory: NOOPMetricsHandler.instance, exposition: { [] })

    package func count(_ label: String, _ dimensions: [(String, String)] = [], by amount: Int = 1) {
        Self.handle(cache.counters, Key(label, dimensions)) { Counter(label: label, dimensions: dimensions, factory: factory) }
            .increment(by: amount)
    }

    package func time(_ label: String, _ dimensions: [(String, String)], since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        Self.handle(cache.timers, Key(label, dimensions)) { Timer(label: label, dimensions: dimensions, factory: factory) }
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    /// The handle cached for `key`, made by `make` the first time.
    private static func handle<Handle>(_ cache: borrowing Mutex<[Key: Handle]>, _ key: Key, make: () -> Handle) -> Handle {
        cache.withLock { cache in
            if let handle = cache[key] { return handle }
            let handle = make()
            cache[key] = handle
            return handle
        }
    }

    package func record(_ label: String, _ value: Int, aggregate: Bool = true, _ dimensions: [(String, String)] = []) {
        Recorder(label: label, dimensions: dimensions, aggregate: aggregate, factory: factory).record(value)
    }

    /// Counts and times HTTP exchanges with one kind of peer (`forge`, `registry`):
    /// `imagebump_KIND_requests_total{host,status}` and `imagebump_KIND_request_duration_seconds{host}`.
    public func observer(_ kind: String) -> MeasuringTransport.Observer {
        let (counter, timer) = ("imagebump_\(kind)_requests_total", "imagebump_\(kind)_request_duration_seconds")
        return { host, status, duration in
            count(counter, [("host", host), ("status", status)])
            Self.handle(cache.timers, Key(timer, [("host", host)])) { Timer(label: timer, dimensions: [("host", host)], factory: factory) }
                .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        }
    }
}
