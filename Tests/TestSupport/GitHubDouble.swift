import Foundation
import Synchronization

/// An in-process GitHub REST v3 (+ GraphQL auto-merge) for one repository, as documented:
/// paths, statuses, headers (rate limits, `Link` pagination), error bodies (401 "Bad
/// credentials", 404 "Not Found", 422 "A pull request already exists …"). Queued faults are
/// answered first, one per request.
public final class GitHubDouble: Sendable {
    public let owner: String
    public let repository: String
    public let token: String
    public let store = ForgeDoubleStore()
    public let server: HTTPDouble

    /// Installation tokens handed out by `POST /app/installations/{id}/access_tokens`, each
    /// valid for `installationTokenLifetime`.
    public let installations = InstallationTokens()

    public init(
        owner: String = "acme", repository: String = "env", token: String = "ghp_T3stT0ken",
        allowedMergeMethods: Set<String> = ["merge", "squash", "rebase"]
    ) throws {
        self.owner = owner
        self.repository = repository
        self.token = token
        let routes = GitHubRoutes(
            owner: owner, repository: repository, token: token, store: store, installations: installations,
            allowedMergeMethods: allowedMergeMethods)
        server = try HTTPDouble { routes.handle($0) }
    }

    public var apiURL: String { server.url }
    public func addPull(title: String, body: String, head: String, base: String) {
        store.add(title: title, body: body, head: head, base: base)
    }
}

/// GitHub's routes over a ``ForgeDoubleStore``.
struct GitHubRoutes: Sendable {
    let owner: String
    let repository: String
    let token: String
    let store: ForgeDoubleStore
    let installations: InstallationTokens
    /// The merge methods the repository allows (a squash-only repository allows `squash`).
    let allowedMergeMethods: Set<String>

    static let documentation = "https://docs.github.com/rest"
    static let rateHeaders: [(String, String)] = [
        ("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", "4999"), ("X-RateLimit-Reset", "1700000000"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ]
    static let notFound = DoubleResponse.json(404, ["message": "Not Found", "documentation_url": documentation, "status": "404"])

    func handle(_ request: RecordedRequest) -> DoubleResponse {
        if let fault = store.nextFault() { return fault }
        let authorization = request.headers["authorization"] ?? ""
        if request.method == "POST", request.path.hasPrefix("/app/installations/"), request.path.hasSuffix("/access_tokens") {
            // A JWT: three base64url parts (the test verifies the signature with openssl).
            guard authorization.hasPrefix("Bearer "), authorization.dropFirst(7).split(separator: ".").count == 3 else {
                return .json(
                    401, ["message": "A JSON web token could not be decoded", "documentation_url": Self.documentation, "status": "401"])
            }
            let (token, lifetime) = installations.state.withLock { state in
                state.issued.append("ghs_installation\(state.issued.count + 1)")
                return (state.issued[state.issued.count - 1], state.lifetime)
            }
            let expiry = ISO8601DateFormatter().string(from: Date().addingTimeInterval(lifetime))
            return .json(201, ["token": token, "expires_at": expiry, "permissions": ["pull_requests": "write", "contents": "write"]])
        }
        let issued = installations.state.withLock { $0.issued }
        guard authorization == "Bearer \(token)" || authorization == "token \(token)" || issued.contains(String(authorization.dropFirst(7)))
        else {
            return .json(401, ["message": "Bad credentials", "documentation_url": Self.documentation, "status": "401"])
        }
        let json = request.json ?? [:]
        if request.method == "POST", request.path == "/graphql" {
            let id = (json["variables"] as? [String: Any])?["id"] as? String ?? ""
            let missing = DoubleResponse.json(
                200, ["errors": [["type": "NOT_FOUND", "message": "Could not resolve to a node with the global id of '\(id)'"]]])
            let method = ((json["variables"] as? [String: Any])?["method"] as? String ?? "MERGE").lowercased()
            return store.mutate(String(id.dropFirst(3)), missing: missing) { pull in
                guard allowedMergeMethods.contains(method) else {
                    return .json(
                        200, ["errors": [["type": "UNPROCESSABLE", "message": "Merge method \(method) is not allowed on this repository"]]])
                }
                guard !pull.clean else {
                    return .json(200, ["errors": [["type": "UNPROCESSABLE", "message": "Pull request Pull request is in clean status"]]])
                }
                (pull.autoMerge, pull.mergeMethod) = (true, method)
                return .json(200, ["data": ["enablePullRequestAutoMerge": ["clientMutationId": NSNull()]]])
            }
        }
        let repo = "/repos/\(owner)/\(repository)"
        guard request.path.hasPrefix(repo) else { return Self.notFound }
        let rest = request.path.dropFirst(repo.count).split(separator: "/").map(String.init)
        switch (request.method, rest.count, rest.first) {
        case ("GET", 1, "pulls"):
            let query = request.query
            let matching = store.pulls.filter { pull in
                (query["state"].map { $0 == "all" || $0 == pull.state } ?? (pull.state == "open"))
                    && (query["head"].map { $0 == "\(owner):\(pull.head)" } ?? true) && (query["base"].map { $0 == pull.base } ?? true)
            }
            return ForgeDoubleStore.page(matching.map(render), request, sizeKey: "per_page", defaultSize: 30, headers: Self.rateHeaders)
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
            return store.create(
                title: json["title"] as? String ?? "", body: json["body"] as? String ?? "", head: head, base: base,
                conflict: { $0.head == head && $0.base == base },
                duplicate: { _ in
                    .json(
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
                },
                created: { .json(201, render($0), headers: Self.rateHeaders) })
        case ("GET", 2, "pulls"):
            return store.mutate(rest[1], missing: Self.notFound) { .json(200, render($0), headers: Self.rateHeaders) }
        case ("PATCH", 2, "pulls"):
            return store.mutate(rest[1], missing: Self.notFound) { pull in
                if let title = json["title"] as? String { pull.title = title }
                if let body = json["body"] as? String { pull.body = body }
                if let state = json["state"] as? String, ["open", "closed"].contains(state), !pull.merged { pull.state = state }
                return .json(200, render(pull), headers: Self.rateHeaders)
            }
        case ("POST", 3, "issues") where rest[2] == "labels":
            return store.mutate(rest[1], missing: Self.notFound) { pull in
                pull.labels += (json["labels"] as? [String] ?? []).filter { !pull.labels.contains($0) }
                return .json(200, pull.labels.map(Self.label), headers: Self.rateHeaders)
            }
        case ("POST", 3, "issues") where rest[2] == "comments":
            return store.comment(on: rest[1], json["body"] as? String ?? "", missing: Self.notFound) { pull in
                .json(201, comment(json["body"] as? String ?? "", on: pull.number, id: pull.comments.count), headers: Self.rateHeaders)
            }
        case ("PUT", 3, "pulls") where rest[2] == "merge":
            return store.mutate(rest[1], missing: Self.notFound) { pull in
                let method = json["merge_method"] as? String ?? "merge"
                guard allowedMergeMethods.contains(method), pull.state == "open" else {
                    return .json(405, ["message": "Pull Request is not mergeable", "documentation_url": Self.documentation, "status": "405"])
                }
                if let sha = json["sha"] as? String, sha != pull.headSHA {
                    return .json(
                        409, ["message": "Head branch was modified. Review and try the merge again.", "documentation_url": Self.documentation, "status": "409"])
                }
                (pull.merged, pull.state, pull.mergeMethod) = (true, "closed", method)
                return .json(200, ["sha": pull.headSHA, "merged": true, "message": "Pull Request successfully merged"], headers: Self.rateHeaders)
            }
        case ("POST", 3, "pulls") where rest[2] == "requested_reviewers":
            return store.mutate(rest[1], missing: Self.notFound) { pull in
                pull.reviewers += json["reviewers"] as? [String] ?? []
                return .json(201, render(pull), headers: Self.rateHeaders)
            }
        default:
            return Self.notFound
        }
    }

    /// A pull request as GitHub answers it: the vendor's published example (from the API
    /// description in `ForgeContracts/`), with what the test cares about written over it.
    func render(_ pull: DoublePull) -> [String: Any] {
        var object = GitHubExamples.pullRequest
        let api = "https://api.github.com/repos/\(owner)/\(repository)"
        let now = "2026-11-23T10:00:00Z"
        for (key, value) in [
            "number": pull.number, "id": 1000 + pull.number, "node_id": "PR_\(pull.number)", "state": pull.state, "title": pull.title,
            "body": pull.body, "html_url": "https://github.com/\(owner)/\(repository)/pull/\(pull.number)",
            "url": "\(api)/pulls/\(pull.number)", "merged": pull.merged, "merged_at": pull.merged ? now : NSNull(),
            "closed_at": pull.state == "closed" ? now : NSNull(), "labels": pull.labels.map(Self.label), "requested_teams": [Any](),
            "requested_reviewers": pull.reviewers.map { GitHubExamples.user(login: $0) }, "draft": false,
            "merge_commit_sha": pull.merged ? pull.headSHA : NSNull(), "auto_merge": NSNull(),
        ] as [String: Any] {
            object[key] = value
        }
        var head = object["head"] as? [String: Any] ?? [:]
        head["ref"] = pull.head
        head["label"] = "\(owner):\(pull.head)"
        head["sha"] = pull.headSHA
        var base = object["base"] as? [String: Any] ?? [:]
        base["ref"] = pull.base
        base["label"] = "\(owner):\(pull.base)"
        object["head"] = head
        object["base"] = base
        return object
    }

    /// A label as GitHub answers it.
    static func label(_ name: String) -> [String: Any] {
        [
            "id": abs(name.hashValue % 1_000_000), "node_id": "LA_\(name)", "url": "https://api.github.com/repos/acme/env/labels/\(name)",
            "name": name, "description": "Applied by imagebump", "color": "ededed", "default": false,
        ]
    }

    /// An issue comment as GitHub answers it.
    func comment(_ body: String, on number: Int, id: Int) -> [String: Any] {
        [
            "id": id, "node_id": "IC_\(id)", "url": "https://api.github.com/repos/\(owner)/\(repository)/issues/comments/\(id)",
            "html_url": "https://github.com/\(owner)/\(repository)/pull/\(number)#issuecomment-\(id)",
            "issue_url": "https://api.github.com/repos/\(owner)/\(repository)/issues/\(number)", "body": body,
            "user": GitHubExamples.user(login: "imagebump[bot]"), "created_at": "2026-11-23T10:00:00Z", "updated_at": "2026-11-23T10:00:00Z",
            "author_association": "NONE",
        ]
    }
}

/// GitHub's published examples, read once from its API description.
enum GitHubExamples {
    nonisolated(unsafe) static let contract: [String: Any] = {  // a let, never mutated: [String: Any] only is not Sendable
        let data = (try? Data(contentsOf: ForgeContract.github.file)) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }()

    static var examples: [String: Any] { (contract["components"] as? [String: Any])?["examples"] as? [String: Any] ?? [:] }

    /// `components.examples.pull-request`.
    nonisolated(unsafe) static let pullRequest: [String: Any] =  // a let, never mutated: [String: Any] only is not Sendable
        (examples["pull-request"] as? [String: Any])?["value"] as? [String: Any] ?? [:]

    /// The example's `user`, with another login.
    static func user(login: String) -> [String: Any] {
        var user = pullRequest["user"] as? [String: Any] ?? [:]
        user["login"] = login
        return user
    }
}

/// The installation tokens a ``GitHubDouble`` handed out, and how long each lives.
public final class InstallationTokens: Sendable {
    public let state = Mutex<(issued: [String], lifetime: TimeInterval)>(([], 3600))
}
