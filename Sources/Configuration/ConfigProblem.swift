/// One thing wrong with a configuration file: where, which key, and what to do.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    /// Dotted path of the key, e.g. `targets[0].mode`.
    public let keyPath: String
    public let message: String

    public var description: String {
        "\(file):\(line):\(column): \(keyPath.isEmpty ? "" : "\(keyPath): ")\(message)"
    }
}

/// A configuration that cannot be used; lists every problem found, not only the first.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
