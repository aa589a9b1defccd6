import Foundation
import HTTPClient

/// JSON over HTTP for forge clients: builds requests, maps statuses to ``ForgeError`` with the
/// forge's own message, and follows `Link: <…>; rel="next"` pagination.
struct ForgeHTTP: Sendable {
    let transport: any HTTPTransport
    let baseURL: String

    func call(_ operation: String, _ method: String, _ path: String, json: Any? = nil, form: [(String, String)]? = nil)
        async throws(ForgeError) -> HTTPResponse
    {
        // A server-given URL (a next page) is followed only on the configured API's origin: the
        // transport adds the token to every request, and it never goes anywhere else.
        if path.hasPrefix("http"), Self.origin(path) != Self.origin(baseURL) {
            throw ForgeError(
                .unexpected, operation: operation, status: nil,
                message:
                    "the forge pointed to \(Self.origin(path) ?? "an unreadable URL"), another origin than its API \(Self.origin(baseURL) ?? baseURL); imagebump sends credentials to the configured API only"
            )
        }
        var request = HTTPRequest(
            method: method, url: path.hasPrefix("http") ? path : baseURL + path, headers: [("Accept", "application/json")])
        if let json {
            request.body = Array((try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data())
            request.setHeader("Content-Type", "application/json")
        }
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch {
            throw ForgeError(
                error.code == .rateLimited ? .rateLimited : .transport, operation: operation, status: nil, message: error.message)
        }
        guard (200..<300).contains(response.status) else { throw Self.error(operation, response) }
        return response
    }

    func object(_ operation: String, _ method: String, _ path: String, json: Any? = nil) async throws(ForgeError) -> [String: Any] {
        let response = try await call(operation, method, path, json: json)
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw ForgeError(.unexpected, operation: operation, status: response.status, message: "the answer is not a JSON object")
        }
        return object
    }

    /// Every element of a paginated list, following `Link` headers (at most `maximumPages`).
    func list(_ operation: String, _ path: String, maximumPages: Int = 50) async throws(ForgeError) -> [[String: Any]] {
        var items: [[String: Any]] = []
        var next: String? = path
        var pages = 0
        while let url = next, pages < maximumPages {
            pages += 1
            let response = try await call(operation, "GET", url)
            guard let page = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
                throw ForgeError(.unexpected, operation: operation, status: response.status, message: "the answer is not a JSON array")
            }
            items += page
            next = response.header("link").flatMap(Self.nextLink)
        }
        return items
    }

    /// Every element of a Bitbucket-style page chain: `{"values": […], "next": "url"}`.
    func pagedValues(_ operation: String, _ path: String, maximumPages: Int = 50) async throws(ForgeError) -> [[String: Any]] {
        var items: [[String: Any]] = []
        var next: String? = path
        var pages = 0
        while let url = next, pages < maximumPages {
            pages += 1
            let page = try await object(operation, "GET", url)
            items += page["values"] as? [[String: Any]] ?? []
            next = page["next"] as? String
        }
        return items
    }

    /// `scheme://host:port` of a URL (the port made explicit), or nil.
    static func origin(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased()
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(host):\(port)"
    }

    /// The `rel="next"` target of a Link header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pieces.count >= 2, pieces.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" })
            else { continue }
            return pieces[0].trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        }
        return nil
    }

    /// A status and the forge's `message` (string or array, as GitLab sends) as an error.
    static func error(_ operation: String, _ response: HTTPResponse) -> ForgeError {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        var message =
            (object?["message"] as? String) ?? (object?["message"] as? [String])?.joined(separator: "; ")
            ?? ((object?["error"] as? [String: Any])?["message"] as? String) ?? (object?["error"] as? String) ?? response.bodyText
        if let errors = object?["errors"] as? [[String: Any]] {
            let details = errors.compactMap { $0["message"] as? String }
            if !details.isEmpty { message += ": " + details.joined(separator: "; ") }
        }
        let code: ForgeError.Code
        switch response.status {
        case 401: code = .unauthorized
        case 403: code = .forbidden
        case 404: code = .notFound
        case 405: code = .notAllowed
        case 409: code = .conflict
        case 422: code = .validation
        case 429: code = .rateLimited
        case 500...: code = .server
        default: code = .unexpected
        }
        return ForgeError(code, operation: operation, status: response.status, message: String(message.prefix(500)))
    }

    /// `owner/name` split in two (the name is empty when there is no slash).
    static func ownerAndName(_ repository: String) -> (owner: String, name: String) {
        let parts = repository.split(separator: "/", maxSplits: 1).map(String.init)
        return (parts.first ?? repository, parts.count > 1 ? parts[1] : "")
    }

    /// A pull request in the JSON shape GitHub and Gitea share.
    static func pullRequest(_ object: [String: Any]) -> MergeRequest {
        MergeRequest(
            number: object["number"] as? Int ?? 0, url: object["html_url"] as? String ?? "", title: object["title"] as? String ?? "",
            body: object["body"] as? String ?? "", head: (object["head"] as? [String: Any])?["ref"] as? String ?? "",
            base: (object["base"] as? [String: Any])?["ref"] as? String ?? "", nodeID: object["node_id"] as? String)
    }

    /// A pull request's status in the JSON shape GitHub and Gitea share: `state` open or closed,
    /// `merged` true when it was merged.
    static func pullRequestStatus(_ object: [String: Any], _ number: Int) -> MergeRequestStatus {
        let state: MergeRequestStatus.State =
            object["merged"] as? Bool == true ? .merged : (object["state"] as? String == "closed" ? .closed : .open)
        return MergeRequestStatus(number: number, state: state, headCommit: (object["head"] as? [String: Any])?["sha"] as? String)
    }

    /// A forge's word for a request's state, as one of ours; an unknown word is an error.
    static func state(_ value: Any?, _ states: [String: MergeRequestStatus.State], _ operation: String) throws(ForgeError)
        -> MergeRequestStatus.State
    {
        guard let word = value as? String, let state = states[word] else {
            throw ForgeError(
                .unexpected, operation: operation, status: 200, message: "unknown state \((value as? String) ?? "(none)")")
        }
        return state
    }

    /// Percent-encodes a path segment (`group/sub/repo` → `group%2Fsub%2Frepo`).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    static func query(_ text: String) -> String { segment(text) }
}
