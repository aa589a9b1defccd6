import Foundation

/// An in-process GitLab REST v4 for one project (addressed by URL-encoded path): merge
/// requests, `add_labels`, reviewers by user id, notes, `merge` with `auto_merge` (405 until
/// a pipeline exists, as right after creation), `PRIVATE-TOKEN` auth ("401 Unauthorized"),
/// 409 "Another open merge request already exists for this source branch: !N".
public final class GitLabDouble: Sendable {
    public let project: String
    public let token: String
    public let store = ForgeDoubleStore()
    public let server: HTTPDouble

    /// `version` is what `GET /version` answers: a server before 17.11 ignores `auto_merge` and
    /// merges at once, as GitLab 16 does.
    public init(
        project: String = "acme/env", token: String = "glpat-T3stT0ken", users: [String: Int] = ["alice": 7], version: String = "17.11.2-ee"
    ) throws {
        self.project = project
        self.token = token
        let store = store
        let encoded = "/api/v4/projects/" + (project.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? project)
        server = try HTTPDouble { request in
            if let fault = store.nextFault() { return fault }
            guard request.headers["private-token"] == token else { return .json(401, ["message": "401 Unauthorized"]) }
            let notFound = DoubleResponse.json(404, ["message": "404 Not found"])
            let json = request.json ?? [:]
            func render(_ pull: DoublePull) -> [String: Any] {
                [
                    "iid": pull.number, "id": 1000 + pull.number, "title": pull.title, "description": pull.body,
                    "state": pull.state == "open" ? "opened" : (pull.merged ? "merged" : "closed"), "sha": pull.headSHA,
                    "source_branch": pull.head, "target_branch": pull.base, "labels": pull.labels,
                    "reviewers": pull.reviewers.map { name in ["id": users[name] ?? 0, "username": name] as [String: Any] },
                    "web_url": "https://gitlab.com/\(project)/-/merge_requests/\(pull.number)",
                ]
            }
            if request.method == "GET", request.path == "/api/v4/version" {
                return .json(200, ["version": version, "revision": "0123abcd"])
            }
            if request.method == "GET", request.path == "/api/v4/users" {
                return .json(200, users.filter { $0.key == request.query["username"] }.map { ["id": $0.value, "username": $0.key] })
            }
            guard request.target.hasPrefix(encoded) else { return notFound }
            let rest = request.path.dropFirst(encoded.count).split(separator: "/").map(String.init)
            switch (request.method, rest.count, rest.first) {
            case ("GET", 1, "merge_requests"):
                let query = request.query
                let matching = store.pulls.filter { pull in
                    (query["state"].map { $0 == "opened" ? pull.state == "open" : true } ?? true)
                        && (query["source_branch"].map { $0 == pull.head } ?? true)
                        && (query["target_branch"].map { $0 == pull.base } ?? true)
                }
                return ForgeDoubleStore.page(matching.map(render), request, sizeKey: "per_page", defaultSize: 20)
            case ("POST", 1, "merge_requests"):
                let head = json["source_branch"] as? String ?? ""
                return store.create(
                    title: json["title"] as? String ?? "", body: json["description"] as? String ?? "", head: head,
                    base: json["target_branch"] as? String ?? "",
                    labels: json["labels"] as? [String] ?? [],
                    conflict: { $0.head == head },
                    duplicate: {
                        .json(409, ["message": ["Another open merge request already exists for this source branch: !\($0.number)"]])
                    },
                    created: { .json(201, render($0)) })
            case ("GET", 2, "merge_requests"):
                return store.mutate(rest[1], missing: notFound) { .json(200, render($0)) }
            case ("PUT", 2, "merge_requests"):
                return store.mutate(rest[1], missing: notFound) { pull in
                    if let title = json["title"] as? String { pull.title = title }
                    if let body = json["description"] as? String { pull.body = body }
                    if json["state_event"] as? String == "close", !pull.merged { pull.state = "closed" }
                    if let add = json["add_labels"] as? [String] { pull.labels += add.filter { !pull.labels.contains($0) } }
                    if let ids = json["reviewer_ids"] as? [Int] {
                        pull.reviewers = ids.compactMap { id in users.first { $0.value == id }?.key }
                    }
                    return .json(200, render(pull))
                }
            case ("PUT", 3, "merge_requests") where rest[2] == "merge":
                // The first call finds no pipeline yet, as right after creation.
                return store.mutate(rest[1], missing: notFound) { pull in
                    pull.mergeAttempts += 1
                    guard pull.mergeAttempts > 1 else { return .json(405, ["message": "405 Method Not Allowed"]) }
                    let parts = version.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                    let understandsAutoMerge = (parts.first ?? 0) > 17 || ((parts.first ?? 0) == 17 && (parts.dropFirst().first ?? 0) >= 11)
                    if json["merge_when_pipeline_succeeds"] as? Bool == true || (understandsAutoMerge && json["auto_merge"] as? Bool == true) {
                        pull.autoMerge = true
                    } else {
                        (pull.merged, pull.state) = (true, "closed")  // an unknown field is ignored: merged now
                    }
                    return .json(200, render(pull))
                }
            case ("POST", 3, "merge_requests") where rest[2] == "notes":
                return store.comment(on: rest[1], json["body"] as? String ?? "", missing: notFound) { _ in
                    .json(201, ["body": json["body"] as? String ?? ""])
                }
            default:
                return notFound
            }
        }
    }

    public var apiURL: String { server.url + "/api/v4" }
}
