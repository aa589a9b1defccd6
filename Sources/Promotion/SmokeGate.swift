import Foundation
import HTTPClient

/// One HTTP check of an environment after a bump: `GET url` must answer `status`, and
/// optionally its body must contain a text, or a JSON field must equal a value. `{tag}` in
/// `bodyContains` or `equals` stands for the tag being promoted, so a check can prove the new
/// version is the one serving (`/version` answering `{"version": "1.4.3"}`).
public struct SmokeCheck: Sendable, Hashable {
    public var url: String
    public var status: Int
    public var bodyContains: String?
    /// A dotted path into a JSON body: `version`, `build.tag`, `items.0.name`.
    public var jsonField: String?
    /// What `jsonField` must equal (default `{tag}`).
    public var equals: String

    public init(url: String, status: Int = 200, bodyContains: String? = nil, jsonField: String? = nil, equals: String = "{tag}") {
        self.url = url
        self.status = status
        self.bodyContains = bodyContains
        self.jsonField = jsonField
        self.equals = equals
    }

    /// Why the answer fails the check for `tag`, or nil when it passes.
    public func failure(_ response: HTTPResponse, tag: String) -> String? {
        guard response.status == status else { return "\(url) answered \(response.status), expected \(status)" }
        if let text = bodyContains?.replacingOccurrences(of: "{tag}", with: tag), !response.bodyText.contains(text) {
            return "\(url) answered without \"\(text)\" in its body"
        }
        if let jsonField {
            let expected = equals.replacingOccurrences(of: "{tag}", with: tag)
            guard let object = try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) else {
                return "\(url) did not answer JSON"
            }
            guard let value = Self.value(at: jsonField, in: object) else { return "\(url) answered JSON without \(jsonField)" }
            guard value == expected else { return "\(url) says \(jsonField) = \(value), expected \(expected)" }
        }
        return nil
    }

    /// The scalar at a dotted path, as text (numbers and booleans as JSON writes them).
    static func value(at path: String, in object: Any) -> String? {
        var current: Any = object
        for key in path.split(separator: ".") {
            if let dictionary = current as? [String: Any], let next = dictionary[String(key)] {
                current = next
            } else if let array = current as? [Any], let index = Int(key), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        switch current {
        case let text as String: return text
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        default: return nil
        }
    }
}

/// A smoke gate: every check must pass at once; they are tried again every `interval` until
/// `timeout` has passed (a rollout takes time), then the gate fails with the last reason.
public struct SmokeGate: Sendable, Hashable {
    public var checks: [SmokeCheck]
    public var timeout: Duration
    public var interval: Duration

    public init(checks: [SmokeCheck], timeout: Duration = .seconds(300), interval: Duration = .seconds(5)) {
        self.checks = checks
        self.timeout = timeout
        self.interval = interval
    }

    /// How a gate ended.
    public enum Outcome: Sendable, Hashable {
        case passed(attempts: Int)
        case failed(attempts: Int, reason: String)
    }

    /// Runs the checks for `tag` until they all pass or the time is up.
    public func run(tag: String, transport: any HTTPTransport = CurlClient()) async -> Outcome {
        let deadline = ContinuousClock.now + timeout
        var attempts = 0
        var reason = "no check ran"
        while true {
            attempts += 1
            reason = ""
            for check in checks {
                do {
                    let response = try await transport.send(HTTPRequest(method: "GET", url: check.url))
                    if let failure = check.failure(response, tag: tag) {
                        reason = failure
                        break
                    }
                } catch {
                    reason = "\(check.url) did not answer: \(error.message)"
                    break
                }
            }
            if reason.isEmpty { return .passed(attempts: attempts) }
            guard ContinuousClock.now + interval < deadline, !Task.isCancelled else { return .failed(attempts: attempts, reason: reason) }
            try? await Task.sleep(for: interval)
        }
    }
}
