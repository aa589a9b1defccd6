import Foundation

/// An in-process Bitbucket Cloud REST 2.0 for one repository: pull requests with `q` filters,
/// JSON paging (`values`, `next`, `pagelen`), comments, Bearer auth, and Bitbucket's error
/// body shape `{"type": "error", "error": {"message": …}}`.
public final class BitbucketDouble: Sendable {
    public let token: String
    public let store = ForgeDoubleStore()
    public let server: HTTPDouble

    public init(workspace: String = "acme", repository: String = "env", token: String = "bb-T3stT0ken", username: String = "imagebump-bot") throws {
        self.token = token
        let store = store
        server = try HTTPDouble { request in
            if let fault = store.nextFault() { return fault }
            // An access token (Bearer), or a user's app password / API token (Basic).
            let basic = "Basic " + Data("\(username):\(token)".utf8).base64EncodedString()
            guard request.headers["authorization"] == "Bearer \(token)" || request.headers["authorization"] == basic else {
                return .json(
                    401,
                    ["type": "error", "error": ["message": "Access token expired. Use your refresh token to obtain a new access token."]])
            }
            let notFound = DoubleResponse.json(
                404, ["type": "error", "error": ["message": "Repository \(workspace)/\(repository) not found"]])
            let json = request.json ?? [:]
            func render(_ pull: DoublePull) -> [String: Any] {
                [
                    "id": pull.number, "type": "pullrequest", "title": pull.title, "description": pull.body,
                    "state": pull.state == "open" ? "OPEN" : (pull.merged ? "MERGED" : "DECLINED"),
                    "source": ["branch": ["name": pull.head], "commit": ["hash": pull.headSHA]],
                    "destination": ["branch": ["name": pull.base]],
                    "links": ["html": ["href": "https://bitbucket.org/\(workspace)/\(repository)/pull-requests/\(pull.number)"]],
                ]
            }
            let repo = "/2.0/repositories/\(workspace)/\(repository)"
            guard request.path.hasPrefix(repo) else { return notFound }
            let rest = request.path.dropFirst(repo.count).split(separator: "/").map(String.init)
            switch (request.method, rest.count) {
            case ("GET", 1):
                let query = request.query["q"] ?? ""
                func wanted(_ field: String) -> String? {
                    guard let range = query.range(of: "\(field)=\"") else { return nil }
                    return String(query[range.upperBound...].prefix { $0 != "\"" })
                }
                let matching = store.pulls.filter { pull in
                    pull.state == "open" && (wanted("source.branch.name").map { $0 == pull.head } ?? true)
                        && (wanted("destination.branch.name").map { $0 == pull.base } ?? true)
                }
                let size = Int(request.query["pagelen"] ?? "10") ?? 10
                let page = Int(request.query["page"] ?? "1") ?? 1
                var body: [String: Any] = [
                    "pagelen": size, "page": page, "size": matching.count,
                    "values": Array(matching.dropFirst((page - 1) * size).prefix(size)).map(render),
                ]
                if page * size < matching.count {
                    var components = URLComponents(string: "http://\(request.headers["host"] ?? "")\(request.target)")
                    let kept = (components?.queryItems ?? []).filter { $0.name != "page" }
                    components?.queryItems = kept + [URLQueryItem(name: "page", value: "\(page + 1)")]
                    body["next"] = components?.string
                }
                return .json(200, body)
            case ("POST", 1):
                let head = ((json["source"] as? [String: Any])?["branch"] as? [String: Any])?["name"] as? String
                let base = ((json["destination"] as? [String: Any])?["branch"] as? [String: Any])?["name"] as? String ?? "main"
                guard let head else { return .json(400, ["type": "error", "error": ["message": "source: This field is required."]]) }
                return store.create(
                    title: json["title"] as? String ?? "", body: json["description"] as? String ?? "", head: head, base: base,
                    conflict: { _ in false },
                    duplicate: { _ in notFound }, created: { .json(201, render($0)) })
            case ("GET", 2):
                return store.mutate(rest[1], missing: notFound) { .json(200, render($0)) }
            case ("PUT", 2):
                // Bitbucket refuses an update without the title.
                guard let title = json["title"] as? String, !title.isEmpty else {
                    return .json(400, ["type": "error", "error": ["message": "title: This field is required."]])
                }
                return store.mutate(rest[1], missing: notFound) { pull in
                    pull.title = title
                    pull.reviewers = ((json["reviewers"] as? [[String: Any]]) ?? []).compactMap { $0["uuid"] as? String }
                    if let body = json["description"] as? String { pull.body = body }
                    return .json(200, render(pull))
                }
            case ("POST", 3) where rest[2] == "decline":
                return store.mutate(rest[1], missing: notFound) { pull in
                    if !pull.merged { pull.state = "closed" }
                    return .json(200, render(pull))
                }
            case ("POST", 3) where rest[2] == "comments":
                return store.comment(on: rest[1], ((json["content"] as? [String: Any])?["raw"] as? String) ?? "", missing: notFound) { _ in
                    .json(201, ["content": json["content"] ?? [:]])
                }
            default:
                return notFound
            }
        }
    }

    public var apiURL: String { server.url + "/2.0" }
}
