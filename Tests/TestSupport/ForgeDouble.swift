import Testing

/// What every forge double offers a test: its merge requests and faults, the requests it saw
/// and what it answered (``ForgeContract`` checks those).
public protocol ForgeDouble: Sendable {
    var store: ForgeDoubleStore { get }
    var server: HTTPDouble { get }
    /// The vendor's API description this double answers by.
    static var contract: ForgeContract { get }
}

extension ForgeDouble {
    public var pulls: [DoublePull] { store.pulls }
    public var requests: [RecordedRequest] { server.requests }
    public func enqueueFaults(_ responses: [DoubleResponse]) { store.enqueueFaults(responses) }

    /// What in the requests this double received, and in its replies, the vendor's API
    /// description does not allow: one line each, empty when all is as documented.
    public func contractProblems() throws -> [String] { try Self.contract.problems(server.exchanges) }

    /// Records an issue in the running test for each exchange the vendor does not document:
    /// `defer { double.expectDocumentedExchanges() }` right after making the double.
    public func expectDocumentedExchanges(sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            for problem in try contractProblems() { Issue.record(Comment(rawValue: problem), sourceLocation: sourceLocation) }
        } catch {
            Issue.record(error, sourceLocation: sourceLocation)
        }
    }
}

extension GitHubDouble: ForgeDouble { public static var contract: ForgeContract { .github } }
extension GitLabDouble: ForgeDouble { public static var contract: ForgeContract { .gitlab } }
extension GiteaDouble: ForgeDouble { public static var contract: ForgeContract { .gitea } }
extension BitbucketDouble: ForgeDouble { public static var contract: ForgeContract { .bitbucket } }
