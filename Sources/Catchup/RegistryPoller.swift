import Configuration
import Events
import Foundation
import ImageReference
import Journal
import Logging
import Policy
import Registry
import Workers

/// The safety net for lost webhooks: reads each polled image's tags from its registry at start
/// and every `poll` interval (with ±10 % jitter), takes for each target the tag its policy
/// would take now, and when no event for that tag is known and the target was not written
/// with it (or a newer one), journals an event with source `poll` and hands it to the workers
/// — the path a webhook's event takes, so deduplication, lanes, coalescing and promotions apply
/// unchanged. One tags list (all pages) per image per round, plus one manifest `HEAD` per
/// event created (its digest, for `tag@digest` pins).
public struct RegistryPoller: Sendable {
    /// A tag whose polled events failed this many times is left to the operator (`events retry`).
    public static let failedAttempts = 3
    /// Images read at the same time, at most.
    static let width = 4

    /// How one round went.
    public struct Round: Sendable, Hashable {
        public var images = 0
        public var failed: [String] = []
        public var tagsFound = 0
        /// The events created, as `image:tag`.
        public var created: [String] = []
    }

    let configuration: Configuration
    let registries: Registries
    let journal: Journal
    let ignoreReason: @Sendable (ImageEvent) -> String?
    let submit: @Sendable (String, ImageEvent) -> Void
    let metrics: ServiceMetrics
    let logger: Logger

    public init(
        configuration: Configuration, registries: Registries, journal: Journal, ignoreReason: @escaping @Sendable (ImageEvent) -> String?,
        submit: @escaping @Sendable (String, ImageEvent) -> Void, metrics: ServiceMetrics = .disabled,
        logger: Logger = Logger(label: "imagebump.poll", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.registries = registries
        self.journal = journal
        self.ignoreReason = ignoreReason
        self.submit = submit
        self.metrics = metrics
        self.logger = logger
    }

    /// Polls at start, then each image at its interval, until cancelled.
    public func run() async {
        let polled = configuration.polledImages
        guard !polled.isEmpty else { return }
        var due = Dictionary(polled.map { ($0.image.name, ContinuousClock.now) }, uniquingKeysWith: { first, _ in first })
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let ready = polled.filter { (due[$0.image.name] ?? now) <= now }
            if !ready.isEmpty { _ = await round(ready.map(\.image)) }
            for (image, seconds) in ready {
                due[image.name] = .now + .milliseconds(Int(Double(seconds * 1000) * Double.random(in: 0.9...1.1)))
            }
            guard let next = due.values.min() else { return }
            try? await Task.sleep(until: next)
        }
    }

    /// One round over `images` (every polled image by default), a few at a time.
    public func round(_ images: [ImageSettings]? = nil) async -> Round {
        let images = images ?? configuration.polledImages.map(\.image)
        var total = Round()
        await withTaskGroup(of: Round.self) { group in
            var iterator = images.makeIterator()
            for _ in 0..<Self.width { if let image = iterator.next() { group.addTask { await poll(image) } } }
            while let one = await group.next() {
                total.images += one.images
                total.failed += one.failed
                total.tagsFound += one.tagsFound
                total.created += one.created
                if let image = iterator.next() { group.addTask { await poll(image) } }
            }
        }
        metrics.count("imagebump_poll_rounds_total")
        logger.debug(
            "poll round", metadata: ["images": .stringConvertible(total.images), "events": .stringConvertible(total.created.count), "failed": .stringConvertible(total.failed.count)])
        return total
    }

    /// Reads one image's tags and creates the events its targets need.
    func poll(_ image: ImageSettings) async -> Round {
        var round = Round(images: 1)
        let client = registries.client(for: image.name)
        let tags: [String]
        do { tags = try await client.tags(image.name.path) } catch {
            metrics.count("imagebump_poll_failures_total", [("image", image.name.description)])
            logger.warning("poll failed", metadata: ["image": "\(image.name)", "error": "\(error)"])
            round.failed.append("\(image.name): \(error)")
            return round
        }
        round.tagsFound = tags.count
        metrics.count("imagebump_poll_tags_found_total", [], by: tags.count)
        let choices = TagChoice.choices(tags, image: image, configuration: configuration)
        var wanted: [String] = []
        for choice in choices { if let tag = choice.tag, !wanted.contains(tag) { wanted.append(tag) } }
        // Lower tags first: a target taking several in one round ends on its highest.
        wanted.sort { image.policy.compare($0, $1) == .orderedAscending }
        for tag in wanted {
            let takers = choices.filter { $0.tag == tag }.map(\.target)
            do {
                guard try await needsEvent(image, tag: tag, targets: takers) else { continue }
                guard let digest = try await client.digest(image.name.path, reference: tag) else { continue }  // deleted meanwhile
                let event = ImageEvent(image: image.name, tag: tag, digest: digest, source: "poll", deliveryID: nil)
                let ignored = ignoreReason(event)
                let (id, duplicate) = try await journal.record(event, ignoredBecause: ignored)
                guard !duplicate, ignored == nil else { continue }
                submit(id, event)
                round.created.append("\(image.name):\(tag)")
                metrics.count("imagebump_poll_events_total")
                logger.info(
                    "event created by polling",
                    metadata: [
                        "event.id": "\(id)", "image": "\(image.name):\(tag)", "digest": "\(digest)", "targets": "\(takers.joined(separator: ","))",
                    ])
            } catch {
                metrics.count("imagebump_poll_failures_total", [("image", image.name.description)])
                logger.warning("poll failed", metadata: ["image": "\(image.name):\(tag)", "error": "\(error)"])
                round.failed.append("\(image.name):\(tag): \(error)")
            }
        }
        return round
    }

    /// Whether `tag` needs an event: none is known for it (pending, or ended other than
    /// failed), polling has not failed with it ``failedAttempts`` times, and some target that
    /// takes it was last written with something lower (or never).
    func needsEvent(_ image: ImageSettings, tag: String, targets: [String]) async throws -> Bool {
        let history = try await journal.tagHistory(registry: image.name.domain, repository: image.name.path, tag: tag)
        if history.known || history.failedPolls >= Self.failedAttempts { return false }
        for target in targets {
            guard let last = try await journal.lastWrite(target: target, image: image.name.description), let written = last.tag else {
                return true
            }
            if written != tag, image.policy(for: target).compare(written, tag) != .orderedDescending { return true }
        }
        return false
    }
}
