/// Whether a plain YAML scalar would be read as something other than a string.
///
/// Both YAML 1.1 (what Helm's and Kubernetes' Go parsers still accept) and 1.2 core are
/// checked, so `1.10`, `20240101`, `on`, `yes`, `null`, `1e3`, `0x1F` and dates such as
/// `2024-01-15` or `2024-1-5` (timestamps to PyYAML and Go's yaml) get quotes.
enum PlainScalarType {
    static func isString(_ text: String) -> Bool {
        if text.isEmpty { return false }
        if nullOrBool.contains(text) { return false }
        if text.wholeMatch(of: integer) != nil || text.wholeMatch(of: float) != nil
            || text.wholeMatch(of: exponent) != nil || text.wholeMatch(of: special) != nil || text.wholeMatch(of: date) != nil
        {
            return false
        }
        return true
    }

    private static let nullOrBool: Set<String> = [
        "~", "null", "Null", "NULL",
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
    ]
    nonisolated(unsafe) private static let integer = /[-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)/  // a Regex literal is immutable; only not yet Sendable
    nonisolated(unsafe) private static let float = /[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?/  // a Regex literal is immutable; only not yet Sendable
    nonisolated(unsafe) private static let exponent = /[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+/  // a Regex literal is immutable; only not yet Sendable
    nonisolated(unsafe) private static let special = /[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)/  // a Regex literal is immutable; only not yet Sendable
    /// YAML 1.1's timestamp, date part (a Docker tag cannot hold the time part's colons).
    nonisolated(unsafe) private static let date = /[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/  // a Regex literal is immutable; only not yet Sendable
}
