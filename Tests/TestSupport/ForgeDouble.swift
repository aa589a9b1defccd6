/// What every forge double offers a test: its merge requests and faults, and the requests it saw.
public protocol ForgeDouble: Sendable {
    var store: ForgeDoubleStore { get }
    var requests: [RecordedRequest] { get }
}

extension GitHubDouble: ForgeDouble {}
extension GitLabDouble: ForgeDouble {}
extension GiteaDouble: ForgeDouble {}
extension BitbucketDouble: ForgeDouble {}
