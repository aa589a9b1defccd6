/// What every forge double offers a test: its merge requests and faults, the requests it saw
/// and what it answered (``ForgeContract`` checks those).
public protocol ForgeDouble: Sendable {
    var store: ForgeDoubleStore { get }
    var server: HTTPDouble { get }
}

extension ForgeDouble {
    public var pulls: [DoublePull] { store.pulls }
    public var requests: [RecordedRequest] { server.requests }
    public func enqueueFaults(_ responses: [DoubleResponse]) { store.enqueueFaults(responses) }
}

extension GitHubDouble: ForgeDouble {}
extension GitLabDouble: ForgeDouble {}
extension GiteaDouble: ForgeDouble {}
extension BitbucketDouble: ForgeDouble {}
