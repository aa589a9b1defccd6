import Foundation

/// An in-process Gitea/Forgejo REST v1 for one repository: pulls (find by base/head, 404 when
/// none), create (201; 409 "pull request already exists for these targets [id: …, issue_id: N, …]"),
/// edit (201, as Gitea answers), labels by id, merge scheduling (200, body field `do`),
/// requested reviewers, `base_branch` filter, `token` auth.
public final class GiteaDouble: Sendable {
    public let token: String
    public let store = ForgeDoubleStore()
    public let server: HTTPDouble

    public init(
        owner: String = "acme", repository: String = "env", token: String = "gitea-T3stT0ken",
        labels: [String: Int] = ["imagebump": 3, "acc": 4], organisationLabels: [String: Int] = [:]
    ) throws {
        self.token = token
        let store = store
        server = try HTTPDouble { request in
            if let fault = store.nextFault() { return fault }
            let swagger = "http://\(request.headers["host"] ?? "")/api/swagger"
            guard request.headers["authorization"] == "token \(token)" else {
                return .json(401, ["message": "token is required", "url": swagger])
            }
            let notFound = DoubleResponse.json(404, ["errors": NSNull(), "message": "The target couldn't be found.", "url": swagger])
            let json = request.json ?? [:]
            func render(_ pull: DoublePull) -> [String: Any] {
                [
                    "number": pull.number, "title": pull.title, "body": pull.body, "state": pull.state, "merged": pull.merged,
                    "head": ["ref": pull.head, "sha": pull.headSHA],
                    "base": ["ref": pull.base],
                    "html_url": "https://gitea.example/\(owner)/\(repository)/pulls/\(pull.number)",
                ]
            }
            if request.method == "GET", request.path == "/api/v1/orgs/\(owner)/labels" {
                return ForgeDoubleStore.page(
                    organisationLabels.sorted { $0.value < $1.value }.map { ["id": $0.value, "name": $0.key] }, request, sizeKey: "limit",
                    defaultSize: 30)
            }
            let repo = "/api/v1/repos/\(owner)/\(repository)"
            guard request.path.hasPrefix(repo) else { return notFound }
            let rest = request.path.dropFirst(repo.count).split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
            switch (request.method, rest.count, rest.first) {
            case ("GET", 1, "labels"):
                return ForgeDoubleStore.page(
                    labels.sorted { $0.value < $1.value }.map { ["id": $0.value, "name": $0.key] }, request, sizeKey: "limit",
                    defaultSize: 30)
            case ("GET", 1, "pulls"):
                return ForgeDoubleStore.page(
                    store.pulls.filter { pull in pull.state == (request.query["state"] ?? "open") && (request.query["base_branch"].map { pull.base == $0 } ?? true) }
                        .map(render), request, sizeKey: "limit", defaultSize: 30)
            case ("GET", 2, "pulls"):
                return store.mutate(rest[1], missing: notFound) { .json(200, render($0)) }
            case ("GET", _, "pulls") where rest.count >= 3:
                let base = rest[1]
                let head = rest.dropFirst(2).joined(separator: "/")
                return store.pulls.last { $0.base == base && $0.head == head }.map { .json(200, render($0)) } ?? notFound
            case ("POST", 1, "pulls"):
                let head = json["head"] as? String ?? ""
                let base = json["base"] as? String ?? ""
                return store.create(
                    title: json["title"] as? String ?? "", body: json["body"] as? String ?? "", head: head, base: base,
                    conflict: { $0.head == head && $0.base == base },
                    duplicate: {
                        .json(
                            409,
                            [
                                "message":
                                    "pull request already exists for these targets [id: \(890 + $0.number), issue_id: \($0.number), head_repo_id: 1, base_repo_id: 1, head_branch: \(head), base_branch: \(base)]",
                                "url": swagger,
                            ])
                    },
                    created: { .json(201, render($0)) })
            case ("PATCH", 2, "pulls"):
                return store.mutate(rest[1], missing: notFound) { pull in
                    if let title = json["title"] as? String { pull.title = title }
                    if let body = json["body"] as? String { pull.body = body }
                    if let state = json["state"] as? String, ["open", "closed"].contains(state), !pull.merged { pull.state = state }
                    return .json(201, render(pull))
                }
            case ("POST", 3, "pulls") where rest[2] == "merge":
                return store.mutate(rest[1], missing: notFound) { pull in
                    guard let action = json["do"] as? String, ["merge", "rebase", "rebase-merge", "squash"].contains(action) else {
                        return .json(422, ["message": "[Do]: Required", "url": swagger])
                    }
                    guard pull.autoMerge == false else { return .json(409, ["message": "auto merge already scheduled", "url": swagger]) }
                    pull.autoMerge = json["merge_when_checks_succeed"] as? Bool ?? false
                    return DoubleResponse(status: 200)
                }
            case ("POST", 3, "pulls") where rest[2] == "requested_reviewers":
                return store.mutate(rest[1], missing: notFound) { pull in
                    pull.reviewers += (json["reviewers"] as? [String] ?? []).filter { !pull.reviewers.contains($0) }
                    return .json(201, pull.reviewers.map { ["id": 0, "user": ["login": $0], "state": "REQUEST_REVIEW"] as [String: Any] })
                }
            case ("POST", 3, "issues") where rest[2] == "labels":
                return store.mutate(rest[1], missing: notFound) { pull in
                    let names = (json["labels"] as? [Int] ?? []).compactMap { id in
                        labels.first { $0.value == id }?.key ?? organisationLabels.first { $0.value == id }?.key
                    }
                    pull.labels += names.filter { !pull.labels.contains($0) }
                    return .json(200, pull.labels.map { ["name": $0] })
                }
            case ("POST", 3, "issues") where rest[2] == "comments":
                return store.comment(on: rest[1], json["body"] as? String ?? "", missing: notFound) { _ in
                    .json(201, ["body": json["body"] as? String ?? ""])
                }
            default:
                return notFound
            }
        }
    }

    public var apiURL: String { server.url + "/api/v1" }
}
