import Foundation

/// The vendors' published API descriptions (`ForgeContracts/`, copied from `../shared/forge-api/`
/// with their provenance): what every request a forge double received and every reply it sent
/// must match. `check.py` does the JSON-Schema work (Python's `jsonschema`); GraphQL mutations
/// are checked against the SDL here.
public enum ForgeContract: String, Sendable, CaseIterable {
    case github, gitea, gitlab, bitbucket

    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ForgeContracts")

    public var file: URL { Self.directory.appendingPathComponent("\(rawValue).json") }

    /// The problems found in `exchanges`, one line each; empty when every one is as documented.
    public func problems(_ exchanges: [(request: RecordedRequest, response: DoubleResponse)]) throws -> [String] {
        let list: [[String: Any]] = exchanges.map { exchange in
            [
                "method": exchange.request.method, "target": exchange.request.target,
                "requestBody": String(decoding: exchange.request.body, as: UTF8.self), "status": exchange.response.status,
                "responseBody": String(decoding: exchange.response.body, as: UTF8.self),
            ]
        }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("forge-exchanges-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: list).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let result = try Command.run("/usr/bin/python3", [Self.directory.appendingPathComponent("check.py").path, file.path, input.path])
        guard result.status == 0 else {
            throw GitFixture.Failure(description: "the contract checker failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout.split(separator: "\n").map(String.init) + (self == .github ? try graphQLProblems(exchanges) : [])
    }

    /// Every GraphQL mutation sent names a mutation of the schema and only its input's fields.
    func graphQLProblems(_ exchanges: [(request: RecordedRequest, response: DoubleResponse)]) throws -> [String] {
        let schema = try String(contentsOf: Self.directory.appendingPathComponent("github-graphql-automerge.graphql"), encoding: .utf8)
        var problems: [String] = []
        for (request, _) in exchanges where request.path == "/graphql" {
            let query = (request.json?["query"] as? String) ?? ""
            guard let range = query.range(of: #"mutation[^{]*\{\s*(\w+)"#, options: .regularExpression) else {
                problems.append("POST /graphql: no mutation in \(query)")
                continue
            }
            let name = query[range].split(whereSeparator: { !$0.isLetter && !$0.isNumber }).last.map(String.init) ?? ""
            let declared = schema.range(of: #"\n\s*"# + name + #"\(\s*("""[\s\S]*?"""\s*)?input:"#, options: .regularExpression) != nil
            if !declared { problems.append("POST /graphql: \(name) is not a mutation of the schema") }
        }
        return problems
    }
}
