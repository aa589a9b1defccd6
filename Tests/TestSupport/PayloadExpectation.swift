import Foundation

/// One real webhook payload of `Tests/EventsTests/Fixtures/payloads` and what its receiver must
/// make of it (a line of `expected.jsonl`): accepted images, or an outcome (`ignore`, `reject`).
public struct PayloadExpectation: Decodable, Sendable, CustomStringConvertible {
    public let file: String
    public let receiver: String
    public let headers: [String: String]
    public let context: ContextFields
    public let accept: [String]?
    public let outcome: String?

    public struct ContextFields: Decodable, Sendable {
        public let registryHost: String?
        public let nexusHosts: [String: String]?
    }

    public var description: String { "\(receiver) \(file)\(context.registryHost.map { " host=\($0)" } ?? "")" }

    /// The payloads' folder (`…/EventsTests/Fixtures`), found from any test file's path.
    public static func fixtures(_ filePath: StaticString = #filePath) -> URL {
        var url = URL(fileURLWithPath: "\(filePath)").deletingLastPathComponent()
        while url.path != "/", !FileManager.default.fileExists(atPath: url.appendingPathComponent("Tests/EventsTests").path) {
            url = url.deletingLastPathComponent()
        }
        return url.appendingPathComponent("Tests/EventsTests/Fixtures")
    }

    /// Every line of `expected.jsonl`.
    public static func all() -> [PayloadExpectation] {
        let text = (try? String(contentsOf: fixtures().appendingPathComponent("expected.jsonl"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(PayloadExpectation.self, from: Data($0.utf8)) }
    }

    /// The payload's bytes.
    public func body() throws -> [UInt8] {
        Array(try Data(contentsOf: Self.fixtures().appendingPathComponent("payloads/\(file)")))
    }
}
