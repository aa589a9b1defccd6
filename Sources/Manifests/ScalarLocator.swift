import Yams

/// A scalar's value located in the source bytes.
struct LocatedScalar: Sendable, Hashable {
    let value: String
    /// The bytes of the value inside any quotes.
    let range: Range<Int>
    let style: ScalarStyle
}

extension SourceText {
    /// Finds the exact bytes of a one-line plain or quoted scalar, skipping any anchor (`&a`) or
    /// tag (`!!str`) before it. Returns nil when the source does not spell the value byte for
    /// byte (multi-line, escapes, block scalars): such a value is never edited.
    func locate(_ scalar: Node.Scalar, lineOffset: Int = 0, columnOffset: Int = 0) -> LocatedScalar? {
        guard let mark = scalar.mark, var offset = offset(line: mark.line + lineOffset, column: mark.column + columnOffset) else {
            return nil
        }
        // Skip node properties: `&anchor`, `!tag`, and the blanks after them.
        while offset < bytes.count, bytes[offset] == UInt8(ascii: "&") || bytes[offset] == UInt8(ascii: "!") {
            while offset < bytes.count, !Self.isBlankOrBreak(bytes[offset]) { offset += 1 }
            while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x09 { offset += 1 }
        }
        let value = scalar.string
        let valueBytes = Array(value.utf8)
        let style: ScalarStyle
        var start = offset
        switch scalar.style {
        case .plain, .any:
            style = .plain
        case .singleQuoted:
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "'"), !valueBytes.contains(UInt8(ascii: "'")) else {
                return nil
            }
            style = .singleQuoted
            start += 1
        case .doubleQuoted:
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\""),
                !valueBytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 < 0x20 })
            else { return nil }
            style = .doubleQuoted
            start += 1
        case .literal, .folded:
            return nil
        }
        let end = start + valueBytes.count
        guard end <= bytes.count, bytes[start..<end].elementsEqual(valueBytes) else { return nil }
        switch style {
        case .singleQuoted: guard end < bytes.count, bytes[end] == UInt8(ascii: "'") else { return nil }
        case .doubleQuoted: guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        default: break
        }
        return LocatedScalar(value: value, range: start..<end, style: style)
    }

    static func isBlankOrBreak(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
