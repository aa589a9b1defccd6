import Events
import Foundation
import TestSupport
import Testing

@testable import Journal

/// Replays of every receiver type's real payloads (the decoder fixtures), within the
/// ten-minute window and a week later: a registry's or forge's delivery is recognised as the
/// same delivery whenever it comes back (its delivery id, an envelope's event id, else the
/// body's own hash), so it never runs twice. CI's generic posts are the exception by design:
/// posting a release again after the window is a request to run it again.
@Suite struct ReplayTests {
    static let accepted = PayloadExpectation.all().filter { $0.accept?.isEmpty == false }

    @Test func everyReceiverTypeIsReplayed() {
        #expect(Set(Self.accepted.map(\.receiver)).count >= 11)
    }

    @Test(arguments: accepted, JournalBackend.allCases)
    func aReplayIsTheSameDeliveryWithinTheWindowAndAWeekLater(_ expectation: PayloadExpectation, backend: JournalBackend) async throws {
        let body = try expectation.body()
        let type = try #require(ReceiverType(rawValue: expectation.receiver))
        let context = ReceiverContext(registryHost: expectation.context.registryHost, nexusHosts: expectation.context.nexusHosts ?? [:])
        guard case .accepted(let events) = try DeliveryDecoder.decode(type, headers: expectation.headers, body: body, context: context) else {
            Issue.record("not accepted")
            return
        }
        #expect(events.allSatisfy { $0.deliveryID != nil }, "every registry or forge event is identifiable")
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        let start = Date()
        var ids: [String] = []
        for event in events {
            let first = try await journal.record(event, now: start)
            #expect(!first.duplicate)
            ids.append(first.id)
        }
        for later: TimeInterval in [60, 7 * 86_400] {
            // The same bytes again, decoded anew, as the sender would resend them.
            guard case .accepted(let again) = try DeliveryDecoder.decode(type, headers: expectation.headers, body: body, context: context)
            else { return }
            for (event, id) in zip(again, ids) {
                let replay = try await journal.record(event, now: start.addingTimeInterval(later))
                #expect(replay.duplicate, "a replay \(Int(later)) s later")
                #expect(replay.id == id)
            }
        }
    }

    @Test(arguments: JournalBackend.allCases)
    func aGenericPostIsNewWorkAfterTheWindowAndAFailedDeliveryRunsAgain(backend: JournalBackend) async throws {
        let journal = try Journal(testing: try await backend.freshLocation())
        defer { journal.close() }
        let start = Date()
        let first = try await journal.record(try JournalTests.event("1.4.2"), now: start)
        #expect(try await journal.record(try JournalTests.event("1.4.2"), now: start.addingTimeInterval(60)).id == first.id)
        #expect(!(try await journal.record(try JournalTests.event("1.4.2"), now: start.addingTimeInterval(3600))).duplicate)

        // A delivery whose event failed: a redelivery a day later runs it again.
        let delivered = try await journal.record(try JournalTests.event("1.5.0", delivery: "gh-1", source: "github"), now: start)
        try await journal.update(delivered.id, status: .failed, detail: "push rejected")
        let redelivered = try await journal.record(
            try JournalTests.event("1.5.0", delivery: "gh-1", source: "github"), now: start.addingTimeInterval(86_400))
        #expect(!redelivered.duplicate)
    }
}
