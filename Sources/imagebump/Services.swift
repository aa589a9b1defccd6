import Catchup
import Foundation
import HTTPServer
import Logging
import Promotion
import Runtime
import ServiceLifecycle
import UnixSignals
import Workers

/// `serve`'s parts as swift-service-lifecycle services: a `ServiceGroup` starts them in order
/// and, on SIGTERM or SIGINT, stops them in reverse — the public listener first (no new
/// events), then the admin listener, the merge-request poller, the registry poller, and last the workers, which
/// finish what is in flight within a deadline (what is not done by then is in the journal and
/// runs again at the next start).
enum Services {
    /// How long a stop waits for the work in flight.
    static let drainSeconds = 30

    /// The group of a running `serve`, in start order.
    static func group(
        workers: Dispatcher, poller: MergeRequestPoller?, registryPoller: RegistryPoller?, retention: JournalRetention, pollEvery: Duration,
        leadership: Leadership? = nil, admin: HTTPServer, server: HTTPServer, logger: Logger
    ) -> ServiceGroup {
        var services: [any Service] = [Workers(dispatcher: workers, logger: logger)]
        if let leadership {
            services.append(leadership)  // the pollers and retention run on the lease holder only
        } else {
            services.append(Retention(retention: retention))
            if let poller { services.append(Poller(poller: poller, every: pollEvery)) }
            if let registryPoller { services.append(RegistryPolling(poller: registryPoller)) }
        }
        services += [Listener(server: admin, within: .seconds(2)), Listener(server: server, within: .seconds(10))]
        return ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// An HTTP listener: serves until the graceful shutdown, then lets the requests in flight
    /// finish (`within`) and closes.
    struct Listener: Service {
        let server: HTTPServer
        let within: Duration

        func run() async throws {
            server.start()
            try? await gracefulShutdown()
            let (server, within) = (server, within)
            await runBlocking { server.shutdown(within: within) }  // it waits; not on a shared thread
        }
    }

    /// The merge-request poller, until the graceful shutdown.
    struct Poller: Service {
        let poller: MergeRequestPoller
        let every: Duration

        func run() async throws {
            let (poller, every) = (poller, every)
            await cancelWhenGracefulShutdown { await poller.run(every: every) }
        }
    }

    /// Reading the registries (the catch-up for lost webhooks), until the graceful shutdown.
    struct RegistryPolling: Service {
        let poller: RegistryPoller

        func run() async throws {
            let poller = poller
            await cancelWhenGracefulShutdown { await poller.run() }
        }
    }

    /// Pruning the journal to `journal.keepDays`, until the graceful shutdown.
    struct Retention: Service {
        let retention: JournalRetention

        func run() async throws {
            let retention = retention
            await cancelWhenGracefulShutdown { await retention.run() }
        }
    }

    /// The dispatcher's lanes: at the graceful shutdown, the work in flight gets ``drainSeconds``.
    struct Workers: Service {
        let dispatcher: Dispatcher
        let logger: Logger

        func run() async throws {
            try? await gracefulShutdown()
            let dispatcher = dispatcher
            let drained = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await dispatcher.drain(); return true }
                group.addTask { try? await Task.sleep(for: .seconds(Services.drainSeconds)); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !drained { logger.warning("stopping with work unfinished after \(Services.drainSeconds) s; it resumes at the next start") }
        }
    }

    /// A second SIGTERM or SIGINT ends the process at once (an operator who pressed Ctrl-C twice,
    /// or a supervisor that lost patience). Whatever was accepted is in the journal and finished
    /// at the next start.
    static func exitOnSecondSignal() -> Task<Void, Never> {
        Task {
            var seen = 0
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                seen += 1
                guard seen == 2 else { continue }
                FileHandle.standardError.write(Data("imagebump: second signal, stopping now; accepted events resume at the next start\n".utf8))
                _exit(130)
            }
        }
    }
}
