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
                        target: "acc", image: "ghcr.io/acme/api", number: 42, merged: true, branch: "imagebump/acc/ghcr.io-acme-api",
                        headCommit: "6dcb09b5b57875f334f61aebed695e2e4193db5e")))
        #expect(
            try decode(.gitlab, "gitlab-merge-request-merged.json", ["x-gitlab-event": "Merge Request Hook"])
                == .merged(
                    MergeNotice(
                        target: "prd", image: "ghcr.io/acme/api", number: 12, merged: true, branch: "imagebump/prd/ghcr.io-acme-api",
                        headCommit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7")))
        #expect(
            try decode(.gitea, "gitea-pull-request-closed-unmerged.json", ["x-gitea-event": "pull_request"])
                == .merged(
                    MergeNotice(
                        target: "acc", image: "ghcr.io/acme/api", number: 5, merged: false, branch: "imagebump/acc/ghcr.io-acme-api",
                        headCommit: "4c8b5e7a1f0d2c3b6a9e8d7c6b5a4f3e2d1c0b9a")))
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
