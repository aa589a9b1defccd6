/// Renders a unified diff (`diff -u` / `git diff` shape) of one file's edit.
///
/// Edits never add or remove lines (a tag holds no line break), so lines pair up one to one;
/// a change in line count falls back to one hunk replacing the whole file.
public enum UnifiedDiff {
    public static func render(file: String, old: [UInt8], new: [UInt8], context: Int = 3) -> String {
        guard old != new else { return "" }
        let before = lines(old)
        let after = lines(new)
        var output = "--- a/\(file)\n+++ b/\(file)\n"
        guard before.count == after.count else {
            output += "@@ -1,\(before.count) +1,\(after.count) @@\n"
            output += before.map { "-\($0)\n" }.joined() + after.map { "+\($0)\n" }.joined()
            return output
        }
        let changed = before.indices.filter { before[$0] != after[$0] }
        var hunks: [ClosedRange<Int>] = []
        for line in changed {
            let range = max(0, line - context)...min(before.count - 1, line + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...range.upperBound
            } else {
                hunks.append(range)
            }
        }
        for hunk in hunks {
            output += "@@ -\(hunk.lowerBound + 1),\(hunk.count) +\(hunk.lowerBound + 1),\(hunk.count) @@\n"
            for line in hunk {
                if before[line] == after[line] {
                    output += " \(before[line])\n"
                } else {
                    output += "-\(before[line])\n+\(after[line])\n"
                }
            }
        }
        return output
    }

    /// Lines without their `\n` (a `\r` stays, as git shows it).
    private static func lines(_ bytes: [UInt8]) -> [String] {
        var result = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if result.last == "" { result.removeLast() }
        return result
    }
}
