import Foundation
import Synchronization

/// An in-process GitHub REST v3 (+ GraphQL auto-merge) for one repository, as documented:
/// paths, statuses, headers (rate limits, `Link` pagination), error bodies (401 "Bad
/// credentials", 404 "Not Found", 422 "A pull request already exists …"). Faults queued in
/// `faults` are answered first, one per request.
public final class GitHubDouble: Sendable {
    public let model: GitHubModel
    public let server: HTTPDouble

    public init(owner: String = "acme", repository: String = "env", token: String = "ghp_T3stT0ken") throws {
        let model = GitHubModel(owner: owner, repository: repository, token: token)
        self.model = model
        server = try HTTPDouble { request in model.handle(request) }
    }

    public var apiURL: String { server.url }
    public var pulls: [GitHubModel.Pull] { model.pulls }
    public var requests: [RecordedRequest] { server.requests }
    public var token: String { model.token }
    public func enqueueFaults(_ responses: [DoubleResponse]) { model.enqueueFaults(responses) }
    public func addPull(title: String, body: String, head: String, base: String) {
        model.addPull(title: title, body: body, head: head, base: base)
    }
}

/// The state and behaviour behind a ``GitHubDouble``.
public final class GitHubModel: Sendable {
    public struct Pull: Sendable {
        public var number: Int
        public var title: String
        public var body: String
        public var head: String
        public var base: String
        public var state = "open"
        public var labels: [String] = []
        public var reviewers: [String] = []
        public var autoMerge = false
        public var comments: [String] = []
    }

    public let owner: String
    public let repository: String
    public let token: String
    private let state = Mutex<(pulls: [Pull], faults: [DoubleResponse])>(([], []))

    init(owner: String, repository: String, token: String) {
        self.owner = owner
        self.repository = repository
        self.token = token
    }

    public var pulls: [Pull] { state.withLock { $0.pulls } }

    /// Answers these first, one per request (429, secondary rate limits, 5xx…).
    public func enqueueFaults(_ responses: [DoubleResponse]) { state.withLock { $0.faults += responses } }

    /// Adds an open pull request (as if a person or an earlier run made it).
    public func addPull(title: String, body: String, head: String, base: String) {
        state.withLock { $0.pulls.append(Pull(number: $0.pulls.count + 1, title: title, body: body, head: head, base: base)) }
    }

    static let documentation = "https://docs.github.com/rest"
    static let rateHeaders: [(String, String)] = [
        ("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", "4999"), ("X-RateLimit-Reset", "1700000000"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ]

    func handle(_ request: RecordedRequest) -> DoubleResponse {
        if let fault = state.withLock({ $0.faults.isEmpty ? nil : $0.faults.removeFirst() }) { return fault }
        let authorization = request.headers["authorization"] ?? ""
        guard authorization == "Bearer \(token)" || authorization == "token \(token)" else {
            return .json(401, ["message": "Bad credentials", "documentation_url": Self.documentation, "status": "401"])
        }
        let repo = "/repos/\(owner)/\(repository)"
        let path = request.path
        let json = request.json ?? [:]
        if request.method == "POST", path == "/graphql" {
            let id = (json["variables"] as? [String: Any])?["id"] as? String ?? ""
            return state.withLock { state in
                guard let index = state.pulls.firstIndex(where: { "PR_\($0.number)" == id }) else {
                    return .json(
                        200, ["errors": [["type": "NOT_FOUND", "message": "Could not resolve to a node with the global id of '\(id)'"]]])
                }
                state.pulls[index].autoMerge = true
                return .json(200, ["data": ["enablePullRequestAutoMerge": ["clientMutationId": NSNull()]]])
            }
        }
        guard path.hasPrefix(repo) else {
            return .json(404, ["message": "Not Found", "documentation_url": Self.documentation, "status": "404"])
        }
        let rest = path.dropFirst(repo.count).split(separator: "/").map(String.init)
        switch (request.method, rest.count, rest.first) {
        case ("GET", 1, "pulls"):
            let query = request.query
            let matching = pulls.filter { pull in
                (query["state"].map { $0 == "all" || $0 == pull.state } ?? (pull.state == "open"))
                    && (query["head"].map { $0 == "\(owner):\(pull.head)" } ?? true) && (query["base"].map { $0 == pull.base } ?? true)
            }
            return page(matching.map(render), request)
        case ("POST", 1, "pulls"):
            let head = json["head"] as? String ?? ""
            let base = json["base"] as? String ?? ""
            guard !(json["title"] as? String ?? "").isEmpty, !head.isEmpty, !base.isEmpty else {
                return .json(
                    422,
                    [
                        "message": "Validation Failed", "errors": [["resource": "PullRequest", "code": "missing_field", "field": "title"]],
                        "documentation_url": Self.documentation, "status": "422",
                    ])
            }
            return state.withLock { state in
                if state.pulls.contains(where: { $0.state == "open" && $0.head == head && $0.base == base }) {
                    return .json(
                        422,
                        [
                            "message": "Validation Failed",
                            "errors": [
                                [
                                    "resource": "PullRequest", "code": "custom",
                                    "message": "A pull request already exists for \(owner):\(head).",
                                ]
                            ],
                            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "422",
                        ])
                }
                let pull = Pull(
                    number: state.pulls.count + 1, title: json["title"] as? String ?? "", body: json["body"] as? String ?? "", head: head,
                    base: base)
                state.pulls.append(pull)
                return .json(
                    201, render(pull),
                    headers: Self.rateHeaders + [("Location", "http://\(request.headers["host"] ?? "")\(repo)/pulls/\(pull.number)")])
            }
        case ("PATCH", 2, "pulls"):
            return mutate(rest[1]) { pull in
                if let title = json["title"] as? String { pull.title = title }
                if let body = json["body"] as? String { pull.body = body }
                return (200, render(pull))
            }
        case ("POST", 3, "issues") where rest[2] == "labels":
            return mutate(rest[1]) { pull in
                pull.labels += (json["labels"] as? [String] ?? []).filter { !pull.labels.contains($0) }
                return (200, pull.labels.map { ["name": $0] })
            }
        case ("POST", 3, "issues") where rest[2] == "comments":
            return mutate(rest[1]) { pull in
                pull.comments.append(json["body"] as? String ?? "")
                return (201, ["body": json["body"] as? String ?? ""])
            }
        case ("POST", 3, "pulls") where rest[2] == "requested_reviewers":
            return mutate(rest[1]) { pull in
                pull.reviewers += json["reviewers"] as? [String] ?? []
                return (201, render(pull))
            }
        default:
            return .json(404, ["message": "Not Found", "documentation_url": Self.documentation, "status": "404"])
        }
    }

    private func mutate(_ number: String, _ change: (inout Pull) -> (Int, Any)) -> DoubleResponse {
        state.withLock { state in
            guard let index = state.pulls.firstIndex(where: { "\($0.number)" == number }) else {
                return .json(404, ["message": "Not Found", "documentation_url": Self.documentation, "status": "404"])
            }
            let (status, body) = change(&state.pulls[index])
            return .json(status, body, headers: Self.rateHeaders)
        }
    }

    private func render(_ pull: Pull) -> [String: Any] {
        [
            "number": pull.number, "node_id": "PR_\(pull.number)", "state": pull.state, "title": pull.title, "body": pull.body,
            "html_url": "https://github.com/\(owner)/\(repository)/pull/\(pull.number)",
            "head": ["ref": pull.head, "label": "\(owner):\(pull.head)"], "base": ["ref": pull.base, "label": "\(owner):\(pull.base)"],
        ]
    }

    /// `per_page` (default 30) and `page`, with a `Link` header to the next and last pages.
    private func page(_ items: [[String: Any]], _ request: RecordedRequest) -> DoubleResponse {
        let perPage = max(1, min(100, Int(request.query["per_page"] ?? "30") ?? 30))
        let number = max(1, Int(request.query["page"] ?? "1") ?? 1)
        let slice = Array(items.dropFirst((number - 1) * perPage).prefix(perPage))
        let last = max(1, (items.count + perPage - 1) / perPage)
        var headers = Self.rateHeaders
        if number < last {
            var components = URLComponents(string: "http://\(request.headers["host"] ?? "")\(request.target)")
            var query = (components?.queryItems ?? []).filter { $0.name != "page" }
            query.append(URLQueryItem(name: "page", value: "\(number + 1)"))
            components?.queryItems = query
            var lastComponents = components
            lastComponents?.queryItems = query.dropLast() + [URLQueryItem(name: "page", value: "\(last)")]
            headers.append(("Link", "<\(components?.string ?? "")>; rel=\"next\", <\(lastComponents?.string ?? "")>; rel=\"last\""))
        }
        return .json(200, slice, headers: headers)
    }
}
