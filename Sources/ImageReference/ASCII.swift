/// Byte classes of the distribution reference grammar.
enum ASCII {
    static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || isDigit(byte)
    }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isLowerAlphanumeric(byte) || isUpper(byte) }
    static func isLowerHex(_ byte: UInt8) -> Bool { isDigit(byte) || (byte >= 0x61 && byte <= 0x66) }
    static func isDigestEncoded(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }
    /// `\w` in the tag grammar: `[A-Za-z0-9_]`.
    static func isWord(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == UInt8(ascii: "_") }
}
