import Events
import Foundation
import TestSupport
import Testing

/// Forge merge request webhooks (Fixtures/merge-requests) read into merge notices.
@Suite struct MergeNoticeTests {
    static let directory = fixturesDirectory().appendingPathComponent("merge-requests")

    func decode(_ type: ReceiverType, _ file: String, _ headers: [String: String]) throws -> DecodedDelivery {
        try DeliveryDecoder.decode(type, headers: headers, body: Array(Data(contentsOf: Self.directory.appendingPathComponent(file))))
    }

    @Test func mergedRequestsOfOursNameTheirEnvironmentAndImage() throws {
        #expect(
            try decode(.github, "github-pull-request-merged.json", ["x-github-event": "pull_request"])
                == .merged(
                    MergeNotice(
                        target: "acc", image: "ghcr.io/acme/api", number: 42, merged: true, branch: "imagebump/acc/ghcr.io-acme-api")))
        #expect(
            try decode(.gitlab, "gitlab-merge-request-merged.json", ["x-gitlab-event": "Merge Request Hook"])
                == .merged(
                    MergeNotice(
                        target: "prd", image: "ghcr.io/acme/api", number: 12, merged: true, branch: "imagebump/prd/ghcr.io-acme-api")))
        #expect(
            try decode(.gitea, "gitea-pull-request-closed-unmerged.json", ["x-gitea-event": "pull_request"])
                == .merged(
                    MergeNotice(
                        target: "acc", image: "ghcr.io/acme/api", number: 5, merged: false, branch: "imagebump/acc/ghcr.io-acme-api")))
        #expect(
            try decode(.gitea, "gitea-pull-request-closed-unmerged.json", ["x-forgejo-event": "pull_request"])
                == decode(.gitea, "gitea-pull-request-closed-unmerged.json", ["x-gitea-event": "pull_request"]))
    }

    @Test func otherRequestsAreIgnoredWithAReason() throws {
        #expect(
            try decode(.github, "github-pull-request-opened.json", ["x-github-event": "pull_request"])
                == .ignored("pull request opened: only merged or closed ones matter"))
        #expect(
            try decode(.github, "github-pull-request-not-ours.json", ["x-github-event": "pull_request"])
                == .ignored("a merge request imagebump did not open"))
    }
}
