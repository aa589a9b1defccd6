import Foundation

/// Compact JSON for response bodies: strings, integers, doubles, booleans, null, arrays and
/// objects (keys sorted, so answers are stable). Foundation's JSONSerialization spent a quarter
/// of intake's CPU time on these few-field bodies.
public enum JSONText {
    public static func encode(_ value: Any?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(value, into: &out)
        return out
    }

    static func write(_ value: Any?, into out: inout [UInt8]) {
        // Swift types first: asking an Any whether it is an NSNull bridges a dictionary to
        // NSDictionary on Linux, which cost more than the encoding itself.
        switch value {
        case nil: out += Array("null".utf8)
        case let text as String: string(text, into: &out)
        case let flag as Bool: out += Array((flag ? "true" : "false").utf8)
        case let number as Int: out += Array(String(number).utf8)
        case let number as Int64: out += Array(String(number).utf8)
        case let number as Double: out += Array((number.isFinite ? String(number) : "null").utf8)
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                string(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(object[key], into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case is NSNull: out += Array("null".utf8)
        default:
            string(value.map { String(describing: $0) } ?? "", into: &out)
        }
    }

    /// Appends `text` as a JSON string literal.
    public static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
