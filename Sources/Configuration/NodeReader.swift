import Foundation
import Yams

/// Reads typed values out of a YAML node tree, collecting a located problem for every value
/// that does not fit instead of stopping at the first.
struct NodeReader {
    let file: String
    private(set) var problems: [ConfigProblem] = []

    init(file: String) { self.file = file }

    mutating func report(_ node: Node?, _ path: String, _ message: String) {
        let mark = node?.mark
        problems.append(ConfigProblem(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, keyPath: path, message: message))
    }

    /// A mapping's entries; unknown keys are reported with the nearest known one.
    mutating func mapping(_ node: Node, _ path: String, known: [String]) -> [String: (key: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            report(node, path, "expected a mapping of keys (\(known.joined(separator: ", ")))")
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            guard known.contains(name) else {
                let hint = Self.nearest(name, in: known).map { "did you mean \"\($0)\"? " } ?? ""
                report(key, keyPath, "unknown key; \(hint)known keys here are \(known.joined(separator: ", "))")
                continue
            }
            if entries[name] != nil { report(key, keyPath, "the key appears twice; keep one") }
            entries[name] = (key, value)
        }
        return entries
    }

    mutating func string(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            report(node, path, "expected a text value")
            return nil
        }
        return scalar.string
    }

    /// `true` or `false`, nothing else (no `yes`, no `on`).
    mutating func flag(_ node: Node, _ path: String) -> Bool? {
        guard case .scalar(let scalar) = node, ["true", "false"].contains(scalar.string) else {
            report(node, path, "expected true or false")
            return nil
        }
        return scalar.string == "true"
    }

    mutating func integer(_ node: Node, _ path: String, minimum: Int, maximum: Int? = nil) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")), value >= minimum,
            value <= maximum ?? Int.max
        else {
            report(node, path, maximum.map { "expected a whole number from \(minimum) to \($0)" } ?? "expected a whole number of at least \(minimum)")
            return nil
        }
        return value
    }

    mutating func strings(_ node: Node, _ path: String) -> [(String, Node)] {
        if case .scalar = node, let single = string(node, path) { return [(single, node)] }
        guard case .sequence(let sequence) = node else {
            report(node, path, "expected a list of text values")
            return []
        }
        return sequence.enumerated().compactMap { index, item in string(item, "\(path)[\(index)]").map { ($0, item) } }
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, as: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        guard let value = T(rawValue: text) else {
            report(node, path, "\"\(text)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    mutating func list(_ node: Node, _ path: String) -> [Node] {
        guard case .sequence(let sequence) = node else {
            report(node, path, "expected a list")
            return []
        }
        return Array(sequence)
    }

    /// The known key closest to a misspelt one (edit distance ≤ 2).
    static func nearest(_ name: String, in known: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var previous = row[0]
                row[0] = i + 1
                for (j, y) in b.enumerated() {
                    let current = row[j + 1]
                    row[j + 1] = min(row[j] + 1, row[j + 1] + 1, previous + (x == y ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let scored = known.map { ($0, distance(Array(name.lowercased()), Array($0.lowercased()))) }
        return scored.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }
}
