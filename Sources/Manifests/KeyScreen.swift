/// The byte test `scan --all` runs on a YAML file before parsing it: false proves the file holds
/// no reference of any shape the extractor reads, so it is not parsed.
///
/// A word alone is not enough: a CRD's schema has `image:` and `repository:` keys whose values
/// are mappings (`description:`, `type: string`) and prose full of "image". The file passes
/// when any of these is in its bytes:
/// - a marker (`imagebump:`, `$imagepolicy`);
/// - `images:` (Kustomize entries, Argo CD kustomize strings) or `parameters:` (Argo CD helm
///   parameters, whose names need not say `repository`);
/// - a key `image` or `repository` (quoted or not, after a line's indentation, `- `, `{`, `,`
///   or `?`) whose value starts on its own line (a scalar, flow collection, anchor, alias, block
///   scalar) or on a later line that is not a mapping key or a sequence item (a plain scalar
///   continued on the next line).
public enum KeyScreen {
    static let image = Array("image".utf8)
    static let repository = Array("repository".utf8)
    static let always = ["imagebump:", "$imagepolicy", "images:", "images\":", "images':", "parameters:"].map { Array($0.utf8) }

    public static func mightHoldAnyReference(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if always.contains(where: { ByteSearch.contains($0, in: bytes) }) { return true }
        return [image, repository].contains { key in
            var from = 0
            while let range = ByteSearch.firstRange(of: key, in: UnsafeRawBufferPointer(rebasing: bytes[from...])) {
                let start = from + range.lowerBound
                if isKey(at: start, length: key.count, in: bytes), valueMayBeScalar(after: start + key.count, in: bytes) { return true }
                from = start + 1
            }
            return false
        }
    }

    /// Whether the word at `start` is a whole mapping key: nothing but a key's opening (quote,
    /// indentation, `- `, `{`, `,`, `?`) before it, and an optional quote and `:` after it.
    static func isKey(at start: Int, length: Int, in bytes: UnsafeRawBufferPointer) -> Bool {
        var before = start - 1
        if before >= 0, bytes[before] == UInt8(ascii: "\"") || bytes[before] == UInt8(ascii: "'") { before -= 1 }
        while before >= 0, bytes[before] == UInt8(ascii: " ") || bytes[before] == UInt8(ascii: "\t") { before -= 1 }
        if before >= 0, ![UInt8(ascii: "\n"), UInt8(ascii: "-"), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: "?")].contains(bytes[before]) {
            return false
        }
        var after = start + length
        if after < bytes.count, bytes[after] == UInt8(ascii: "\"") || bytes[after] == UInt8(ascii: "'") { after += 1 }
        return after < bytes.count && bytes[after] == UInt8(ascii: ":")
    }

    /// Whether the value after the key ending at `key` (its `:` follows) may hold a scalar.
    static func valueMayBeScalar(after key: Int, in bytes: UnsafeRawBufferPointer) -> Bool {
        var index = key
        while index < bytes.count, bytes[index] != UInt8(ascii: ":") { index += 1 }
        index += 1
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        guard index < bytes.count else { return false }
        if ![UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "#")].contains(bytes[index]) { return true }
        // Nothing on the key's line: the value is on the next line that holds something.
        while let line = nextLine(after: index, in: bytes) {
            index = line.upperBound
            let text = bytes[line].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            guard let first = text.first, first != UInt8(ascii: "#"), first != UInt8(ascii: "\r") else { continue }
            if first == UInt8(ascii: "-"), text.dropFirst().first.map({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) ?? true {
                return false  // a sequence
            }
            return !isMappingKeyLine(text)
        }
        return false
    }

    /// The range of the line after the one holding `index` (without its newline), or nil at the end.
    static func nextLine(after index: Int, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var start = index
        while start < bytes.count, bytes[start] != UInt8(ascii: "\n") { start += 1 }
        start += 1
        guard start < bytes.count else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
        return start..<end
    }

    /// Whether a line's text reads as `key:` followed by a space, a comment or its end.
    static func isMappingKeyLine(_ text: Slice<UnsafeRawBufferPointer>) -> Bool {
        var previous: UInt8 = 0
        var sawColon = false
        for byte in text {
            if sawColon { return byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") }
            sawColon = byte == UInt8(ascii: ":") && previous != 0
            previous = byte
        }
        return sawColon
    }
}
