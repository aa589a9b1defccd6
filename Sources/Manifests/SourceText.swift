/// A file's bytes with a line index, translating between byte offsets and the
/// (line, column) positions libyaml reports (1-based; columns count Unicode scalars).
struct SourceText: Sendable {
    let bytes: [UInt8]
    /// Byte offset where each line starts; line 1 starts after a UTF-8 byte order mark.
    let lineStarts: [Int]

    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [bytes.starts(with: Self.byteOrderMark) ? 3 : 0]
        var index = starts[0]
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A {
                starts.append(index + 1)
            } else if byte == 0x0D, index + 1 >= count || bytes[index + 1] != 0x0A {
                starts.append(index + 1)  // a lone CR is a line break too, as libyaml reads it
            }
            index += 1
        }
        lineStarts = starts
    }

    /// Where the text after any byte order mark begins.
    var bodyStart: Int { lineStarts[0] }

    /// The byte offset of a 1-based (line, column-in-scalars) position.
    func offset(line: Int, column: Int) -> Int? {
        guard line >= 1, line <= lineStarts.count else { return nil }
        var offset = lineStarts[line - 1]
        var remaining = column - 1
        while remaining > 0 {
            guard offset < bytes.count else { return nil }
            offset += 1
            while offset < bytes.count, bytes[offset] & 0xC0 == 0x80 { offset += 1 }
            remaining -= 1
        }
        return offset
    }

    /// The 1-based (line, column-in-scalars) of a byte offset.
    func position(of offset: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        var column = 1
        var index = lineStarts[low]
        while index < offset {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return (low + 1, column)
    }

    /// The byte range of a 1-based line, without its line break.
    func lineRange(_ line: Int) -> Range<Int> {
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] : bytes.count
        while end > start, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        return start..<end
    }

    func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
}
