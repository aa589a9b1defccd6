import Foundation

/// A strict RFC 8259 JSON reader for webhook bodies, producing what the decoders read:
/// `[String: Any]`, `[Any]`, `String`, `Int` (integers that fit) or `Double`, `Bool`, `NSNull`.
///
/// Foundation's `JSONSerialization` took half of intake's time on a 2.4 KB registry envelope
/// (it builds an intermediate tree, then bridges every value); this reads the bytes once. It
/// refuses what RFC 8259 refuses — trailing commas (which Foundation lets through), comments,
/// single quotes, bare words, leading zeros, control characters and invalid UTF-8 in strings,
/// lone surrogates, bytes after the value — skips a leading UTF-8 byte order mark (§8.1), and
/// nests at most ``maximumDepth`` deep, so no body can exhaust the stack.
public enum JSONReader {
    /// Why a body is not JSON, and where.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    public static let maximumDepth = 512

    /// The value of a whole document (whitespace around it allowed, nothing else).
    public static func value(_ bytes: [UInt8]) throws(Failure) -> Any {
        try bytes.withUnsafeBufferPointer { buffer throws(Failure) -> Any in
            var reader = Cursor(bytes: buffer)
            reader.skipByteOrderMark()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw reader.failure("unexpected bytes after the JSON value") }
            return value
        }
    }

    /// The first value in the bytes, and the offset just after it (trailing bytes are the
    /// caller's business).
    public static func prefix(_ bytes: [UInt8]) throws(Failure) -> (value: Any, end: Int) {
        try bytes.withUnsafeBufferPointer { buffer throws(Failure) -> (value: Any, end: Int) in
            var reader = Cursor(bytes: buffer)
            reader.skipByteOrderMark()
            let value = try reader.value(depth: 0)
            return (value, reader.position)
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func failure(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }

        /// RFC 8259 §8.1: a parser may ignore a UTF-8 byte order mark; some senders write one.
        mutating func skipByteOrderMark() {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Failure) -> Any {
            skipWhitespace()
            guard position < bytes.count else { throw failure("the JSON ends where a value should be") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "t"): return try word("true", true)
            case UInt8(ascii: "f"): return try word("false", false)
            case UInt8(ascii: "n"): return try word("null", NSNull())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw failure("unexpected character where a value should be")
            }
        }

        mutating func word(_ text: StaticString, _ result: Any) throws(Failure) -> Any {
            let count = text.utf8CodeUnitCount
            guard position + count <= bytes.count,
                memcmp(bytes.baseAddress! + position, text.utf8Start, count) == 0
            else { throw failure("unknown word (true, false and null are the only ones)") }
            position += count
            return result
        }

        mutating func object(depth: Int) throws(Failure) -> [String: Any] {
            guard depth <= JSONReader.maximumDepth else { throw failure("nested deeper than \(JSONReader.maximumDepth)") }
            position += 1  // {
            var result: [String: Any] = Dictionary(minimumCapacity: 8)
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return result
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a quoted key") }
                let key = try string()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("expected : after a key") }
                position += 1
                result[key] = try value(depth: depth)
                skipWhitespace()
                guard position < bytes.count else { throw failure("the JSON ends inside an object") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return result
                default: throw failure("expected , or } in an object")
                }
            }
        }

        mutating func array(depth: Int) throws(Failure) -> [Any] {
            guard depth <= JSONReader.maximumDepth else { throw failure("nested deeper than \(JSONReader.maximumDepth)") }
            position += 1  // [
            var result: [Any] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return result
            }
            while true {
                result.append(try value(depth: depth))
                skipWhitespace()
                guard position < bytes.count else { throw failure("the JSON ends inside an array") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return result
                default: throw failure("expected , or ] in an array")
                }
            }
        }

        mutating func string() throws(Failure) -> String {
            position += 1  // opening quote
            let start = position
            var high: UInt8 = 0  // any byte ≥ 0x80 sets the top bit: ASCII-only text needs no UTF-8 check
            // The common case: no escapes, taken as one slice.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    if high < 0x80 { return String(decoding: slice, as: UTF8.self) }
                    guard let text = String(validating: slice, as: UTF8.self) else { throw failure("a string is not valid UTF-8") }
                    return text
                }
                high |= byte
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw failure("a control character inside a string") }
                position += 1
            }
            var decoded = Array(bytes[start..<position])
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    guard let text = String(validating: decoded, as: UTF8.self) else { throw failure("a string is not valid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    position += 1
                    guard position < bytes.count else { break }
                    let escape = bytes[position]
                    position += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"): decoded.append(contentsOf: try unicodeEscape())
                    default: throw failure("unknown escape in a string")
                    }
                case 0..<0x20:
                    throw failure("a control character inside a string")
                default:
                    decoded.append(byte)
                    position += 1
                }
            }
            throw failure("the JSON ends inside a string")
        }

        /// After `\u`: four hex digits, a surrogate pair when the first is a high surrogate; the
        /// scalar's UTF-8 bytes.
        mutating func unicodeEscape() throws(Failure) -> [UInt8] {
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw failure("a high surrogate without its low surrogate") }
                position += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw failure("a high surrogate without its low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw failure("a lone low surrogate")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw failure("an invalid \\u escape") }
            return Array(String(Character(unicode)).utf8)
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard position + 4 <= bytes.count else { throw failure("a \\u escape needs four hex digits") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw failure("a \\u escape needs four hex digits")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func number() throws(Failure) -> Any {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw failure("a number needs digits") }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
                if position < bytes.count, isDigit(bytes[position]) { throw failure("a number with a leading zero") }
            } else {
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            var integral = true
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                integral = false
                position += 1
                guard position < bytes.count, isDigit(bytes[position]) else { throw failure("a fraction needs digits") }
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                integral = false
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard position < bytes.count, isDigit(bytes[position]) else { throw failure("an exponent needs digits") }
                while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            if integral, let integer = Int(text) { return integer }
            guard let double = Double(text), double.isFinite else { throw failure("a number out of range") }
            return double
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
