import Foundation
import Synchronization

/// A merge request as a forge double keeps it.
public struct DoublePull: Sendable {
    public var number: Int
    public var title: String
    public var body: String
    public var head: String
    public var base: String
    /// `open` or `closed`; a merged request is closed with `merged` set.
    public var state = "open"
    public var merged = false
    /// The commit the head branch is at (a fixed fake until someone ends the request).
    public var headSHA = String(repeating: "a", count: 40)
    public var labels: [String] = []
    public var reviewers: [String] = []
    public var autoMerge = false
    /// GitHub: nothing pending (checks passed, no review required) — auto-merge cannot be
    /// scheduled, the request must be merged now.
    public var clean = false
    /// The merge method the request was (to be) merged with.
    public var mergeMethod: String?
    /// Merge calls seen (GitLab answers 405 to the first, before a pipeline exists).
    public var mergeAttempts = 0
    public var comments: [String] = []
}

/// The state every forge double shares: merge requests, and faults answered first.
public final class ForgeDoubleStore: Sendable {
    private let state = Mutex<(pulls: [DoublePull], faults: [DoubleResponse])>(([], []))

    public init() {}

    public var pulls: [DoublePull] { state.withLock { $0.pulls } }

    public func enqueueFaults(_ responses: [DoubleResponse]) { state.withLock { $0.faults += responses } }

    func nextFault() -> DoubleResponse? { state.withLock { $0.faults.isEmpty ? nil : $0.faults.removeFirst() } }

    @discardableResult
    public func add(title: String, body: String, head: String, base: String) -> DoublePull {
        state.withLock { state in
            let pull = DoublePull(number: state.pulls.count + 1, title: title, body: body, head: head, base: base)
            state.pulls.append(pull)
            return pull
        }
    }

    /// Ends a request as someone on the forge would: merged, or closed without merging.
    public func finish(_ number: Int, merged: Bool, headSHA: String? = nil) {
        state.withLock { state in
            guard let index = state.pulls.firstIndex(where: { $0.number == number }) else { return }
            state.pulls[index].state = "closed"
            state.pulls[index].merged = merged
            if let headSHA { state.pulls[index].headSHA = headSHA }
        }
    }

    /// Runs `change` on the pull numbered `number`, or answers `missing`.
    public func mutate(_ number: String, missing: DoubleResponse, _ change: (inout DoublePull) -> DoubleResponse) -> DoubleResponse {
        state.withLock { state in
            guard let index = state.pulls.firstIndex(where: { "\($0.number)" == number }) else { return missing }
            return change(&state.pulls[index])
        }
    }

    /// A comment on request `number` (its text `body`), answered by `answer(pull)`.
    func comment(on number: String, _ body: String, missing: DoubleResponse, answer: (DoublePull) -> DoubleResponse) -> DoubleResponse {
        mutate(number, missing: missing) { pull in
            pull.comments.append(body)
            return answer(pull)
        }
    }

    /// Creates a pull unless `conflict` finds one; answers `duplicate(existing)` then.
    func create(
        title: String, body: String, head: String, base: String, labels: [String] = [], conflict: (DoublePull) -> Bool,
        duplicate: (DoublePull) -> DoubleResponse, created: (DoublePull) -> DoubleResponse
    ) -> DoubleResponse {
        state.withLock { state in
            if let existing = state.pulls.first(where: { $0.state == "open" && conflict($0) }) { return duplicate(existing) }
            var pull = DoublePull(number: state.pulls.count + 1, title: title, body: body, head: head, base: base)
            pull.labels = labels
            state.pulls.append(pull)
            return created(pull)
        }
    }

    /// One page of `items` by `page` and `sizeKey` (`per_page` or `limit`), with a `Link`
    /// header to the next and last pages.
    static func page(_ items: [Any], _ request: RecordedRequest, sizeKey: String, defaultSize: Int, headers: [(String, String)] = [])
        -> DoubleResponse
    {
        let size = max(1, min(100, Int(request.query[sizeKey] ?? "\(defaultSize)") ?? defaultSize))
        let number = max(1, Int(request.query["page"] ?? "1") ?? 1)
        let slice = Array(items.dropFirst((number - 1) * size).prefix(size))
        let last = max(1, (items.count + size - 1) / size)
        var headers = headers
        if number < last {
            func link(_ page: Int) -> String {
                var components = URLComponents(string: "http://\(request.headers["host"] ?? "")\(request.target)")
                let kept = (components?.queryItems ?? []).filter { $0.name != "page" }
                components?.queryItems = kept + [URLQueryItem(name: "page", value: "\(page)")]
                return components?.string ?? ""
            }
            headers.append(("Link", "<\(link(number + 1))>; rel=\"next\", <\(link(last))>; rel=\"last\""))
        }
        return .json(200, slice, headers: headers)
    }
}
