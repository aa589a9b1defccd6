import AppLogging
import ArgumentParser
import Catchup
import Cluster
import Configuration
import Dispatch
import Events
import Foundation
import Git
import HTTPClient
import HTTPServer
import ImageReference
import Intake
import Journal
import Logging
import Pipeline
import Prometheus
import Promotion
import Runtime
import ServiceLifecycle
import Workers

/// `imagebump serve`: the webhook service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the webhook service: receive image pushes, journal them, bump the environment repositories.",
        discussion: """
            Listens on server.listen:server.port (or --port) for POST /hooks/RECEIVER, POST /v1/events, \
            GET /v1/events[/ID], GET|POST /v1/promotions[/ID[/approve]], GET /healthz, GET /readyz and GET /metrics. SIGTERM or SIGINT stops accepting, \
            finishes the work in flight, and exits 0.
            """
    )

    @Option(name: .long, help: "Listen on this port instead of server.port (0 picks a free one).")
    var port: Int?

    @Option(name: .long, help: "The admin listener's port instead of server.admin.port (0 picks a free one).")
    var adminPort: Int?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if global.config == nil { throw ValidationError("serve needs --config FILE (receivers, repos, targets, images)") }
    }

    func run() async throws {
        let (configuration, logger) = try global.load(label: "imagebump.serve")
        // Every secret resolves, and is long enough, before anything listens.
        let secretProblems = configuration.secretProblems()
        guard secretProblems.isEmpty else {
            FileHandle.standardError.write(Data((ConfigError(problems: secretProblems).description + "\n").utf8))
            throw ExitCode(2)
        }
        for warning in configuration.warnings { logger.warning("\(warning)") }
        if let warning = DescriptorLimit.warning(maximumConnections: configuration.server.maximumConnections) { logger.warning("\(warning)") }
        let state = configuration.resolvedStateDirectory
        let registry = PrometheusCollectorRegistry()
        let metrics = ServiceMetrics(
            factory: PrometheusMetricsFactory(registry: registry), exposition: { ServiceMetrics.withHelp(registry.emitToBuffer()) })
        metrics.record("imagebump_build_info", 1, aggregate: false, [("version", Imagebump.version)])
        let forgeObserver = metrics.observer("forge")
        let receivers: [ReceiverSettings]
        let allRoutes: [ImageName: [Route]]
        let journal: Journal
        let writeBackSettings: WriteBackSettings
        do {
            writeBackSettings = try WriteBackSettings(configuration)
            if let bundle = configuration.git.caBundle { try LibGit2.useCertificateAuthorities(file: bundle, directory: nil) }
            LibGit2.setNetworkTimeout(.seconds(configuration.git.timeoutSeconds))
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            receivers = try configuration.receivers.map { (receiver) throws(SetupFailure) in try ReceiverSettings(receiver, logger: logger) }
            allRoutes = try Route.routes(configuration, logger: logger, observe: forgeObserver)
            // The journal stores what the logs would print: through the same redaction.
            let redactor = Redactor(secrets: configuration.resolvableSecrets())
            let location = try configuration.journalLocation(stateDirectory: state)
            // On PostgreSQL, several replicas may share the journal: the leader lease's table too.
            journal = try Journal(
                location: location, schemas: [.workers, .promotions, .catchup] + (location.isShared ? [.cluster] : []),
                completionScope: AnswerBatch.run, redact: { redactor.redact($0) })
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        // Image events write to a chain's first environment only; the engine writes the rest.
        let chains = configuration.promotions.map(PromotionChain.init)
        let eventRoutes = Route.eventRoutes(allRoutes, configuration)
        let registries = Registries(configuration, metrics: metrics)
        let verifier = ManifestVerifier(configuration: configuration, registries: registries)
        let verify: (@Sendable (ImageEvent) async -> Verification)? = verifier.isNeeded ? { @Sendable event in await verifier.check(event) } : nil
        // Several replicas on one journal: the lease holder alone writes, and proves it holds the
        // lease before each push (a replica that cannot is stopped; the holder finishes its work).
        let lease = !journal.location.isShared ? nil : LeaderLease(journal: journal, holder: LeaderLease.holderName(), ttl: .seconds(configuration.journal.leaseSeconds), logger: logger)
        let fence: (@Sendable (Int) throws -> Void)? = lease.map { lease in
            { @Sendable _ in
                do { try lease.fence() } catch { Leadership.stepDown("before a push: \(error)", logger) }
            }
        }
        let dispatcher = Dispatcher(
            journal: journal,
            updater: TargetUpdater(writeBack: WriteBack(settings: writeBackSettings, logger: logger, beforePush: fence), logger: logger),
            routes: { eventRoutes[$0] ?? [] }, attempts: configuration.workerAttempts,
            batchWindow: .milliseconds(configuration.batchWindowMilliseconds), retryBudget: .seconds(configuration.retryBudgetSeconds),
            metrics: metrics, logger: logger, verify: verify)
        let readiness = Readiness(journal: journal, targets: allRoutes.values.flatMap { $0.map(\.target) })
        let route: @Sendable (ImageName, String) -> Route? = { image, target in allRoutes[image]?.first { $0.target.name == target } }
        let engine = PromotionEngine(journal: journal, dispatcher: dispatcher, chains: chains, route: route, logger: logger)
        let mergeNotices = MergeNoticeHandler(
            journal: journal, dispatcher: dispatcher, promotions: engine, route: route, logger: logger)
        // The admin token (resolved and checked with every other secret above).
        let adminToken = configuration.server.admin.token.flatMap { try? $0.resolve().revealed }
        let router = IntakeRouter(
            receivers: receivers, journal: journal, readiness: readiness, metrics: metrics, promotions: engine, mergeNotices: mergeNotices,
            ignoreReason: dispatcher.ignoreReason, logger: logger, adminToken: adminToken,
            requireTokenForReads: configuration.server.admin.requireTokenForReads, managed: { allRoutes[$0] != nil },
            statusLayout: StatusPage.Layout(
                images: configuration.images.map { ($0.name.description, configuration.targets(for: $0.name).map(\.name)) },
                targets: configuration.targets.map(\.name)),
            leading: { lease?.isLeader ?? true },
            // Elsewhere than on the lease holder, the holder takes the journaled event up.
            accepted: { id, event in if lease?.isLeader ?? true { dispatcher.submit(id, event) } })
        var settings = HTTPServerSettings()
        settings.host = configuration.server.listen
        settings.port = port ?? configuration.server.port
        settings.limits.maximumBodyBytes = configuration.server.maximumBodyBytes
        settings.maximumConnections = configuration.server.maximumConnections
        settings.headerTimeout = .seconds(configuration.server.headerTimeoutSeconds)
        var adminSettings = settings
        adminSettings.host = configuration.server.admin.listen
        adminSettings.port = adminPort ?? configuration.server.admin.port
        adminSettings.maximumConnections = 64
        adminSettings.eventLoops = 1
        let server: HTTPServer
        let admin: HTTPServer
        do {
            server = try HTTPServer(settings: settings, logger: logger, immediate: router.immediate, deferred: router.deliver) {
                await router.handle($0)
            }
            admin = try HTTPServer(settings: adminSettings, logger: logger) { await router.handleAdmin($0) }
        } catch {
            FileHandle.standardError.write(Data("cannot listen: \(error)\n".utf8))
            throw ExitCode.failure
        }
        // The OIDC receivers' signing keys, before the first delivery needs them.
        for receiver in receivers { await receiver.oidc?.refresh() }
        if lease == nil { try await Leadership.resume(engine: engine, dispatcher: dispatcher, mergeNotices: mergeNotices) }
        let poller = MergeRequestPoller(promotions: engine, notices: mergeNotices, route: route, logger: logger)
        emit("listening on \(settings.host):\(server.port)\n")
        emit("admin on \(adminSettings.host):\(admin.port)\n")
        logger.notice("serving", metadata: ["http.port": .stringConvertible(server.port), "receivers": "\(receivers.map(\.name).joined(separator: ","))"])
        let registryPoller = RegistryPoller(
            configuration: configuration, registries: registries, journal: journal, ignoreReason: dispatcher.ignoreReason,
            submit: { dispatcher.submit($0, $1) }, metrics: metrics, logger: logger)
        let forcedExit = Services.exitOnSecondSignal()
        let retention = JournalRetention(journal: journal, keepDays: configuration.journal.keepDays, metrics: metrics, logger: logger)
        let leadership = lease.map { lease in
            let pollEvery = Duration.seconds(configuration.mergePollSeconds)
            var duties: [@Sendable () async -> Void] = [{ await retention.run() }]
            if configuration.mergePollSeconds > 0 { duties.append { await poller.run(every: pollEvery) } }
            if !configuration.polledImages.isEmpty { duties.append { await registryPoller.run() } }
            return Leadership(
                lease: lease, journal: journal, dispatcher: dispatcher, engine: engine, mergeNotices: mergeNotices, duties: duties,
                metrics: metrics, logger: logger)
        }
        let group = Services.group(
            workers: dispatcher, poller: configuration.mergePollSeconds > 0 ? poller : nil,
            registryPoller: configuration.polledImages.isEmpty ? nil : registryPoller, retention: retention,
            pollEvery: .seconds(configuration.mergePollSeconds), leadership: leadership, admin: admin, server: server, logger: logger)
        do { try await group.run() } catch { logger.error("a service failed", metadata: ["error": "\(error)"]) }
        forcedExit.cancel()
        await lease?.release()  // everything stopped and drained: the next holder need not wait for it to run out
        logger.notice("stopped", metadata: ["journal.transactions": "\(journal.commitCount)"])
        journal.close()
    }
}
