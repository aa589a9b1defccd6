import Foundation
import TestSupport
import Testing

@testable import Events

/// The JSON reader against Foundation's `JSONSerialization` on every fixture payload and on
/// edge cases, its refusals, its depth bound, and random damage to real payloads.
@Suite struct JSONReaderTests {
    /// A JSON value in one canonical form, whichever reader produced it (Foundation gives
    /// booleans and numbers as NSNumber).
    indirect enum Canonical: Equatable, CustomStringConvertible {
        case object([String: Canonical])
        case array([Canonical])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null

        init(_ value: Any) {
            switch value {
            case let object as [String: Any]: self = .object(object.mapValues(Canonical.init))
            case let array as [Any]: self = .array(array.map(Canonical.init))
            case let string as String: self = .string(string)
            case is NSNull: self = .null
            case let bool as Bool where String(describing: type(of: value)) == "__NSCFBoolean" || type(of: value) == Bool.self:
                self = .bool(bool)
            case let integer as Int: self = .number(Double(integer))
            case let double as Double: self = .number(double)
            case let number as NSNumber: self = .number(number.doubleValue)
            default: self = .string("unexpected \(type(of: value))")
            }
        }

        var description: String {
            switch self {
            case .object(let fields): "{" + fields.keys.sorted().map { "\($0): \(fields[$0]!)" }.joined(separator: ", ") + "}"
            case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
            case .string(let text): text.debugDescription
            case .number(let number): "\(number)"
            case .bool(let bool): "\(bool)"
            case .null: "null"
            }
        }
    }

    static func foundation(_ bytes: [UInt8]) -> Canonical? {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])).map(Canonical.init)
    }

    static func ours(_ bytes: [UInt8]) -> Canonical? { (try? JSONReader.value(bytes)).map(Canonical.init) }

    static var payloads: [URL] {
        (try? FileManager.default.contentsOfDirectory(
            at: fixturesDirectory().appendingPathComponent("payloads"), includingPropertiesForKeys: nil))?.filter {
                $0.pathExtension == "json"
            }.sorted { $0.path < $1.path } ?? []
    }

    static func lines(_ name: String) throws -> [String] {
        try String(contentsOf: fixturesDirectory().appendingPathComponent("json/\(name)"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    }

    @Test func everyFixturePayloadReadsAsFoundationReadsIt() throws {
        #expect(Self.payloads.count >= 40)
        for url in Self.payloads {
            let bytes = Array(try Data(contentsOf: url))
            let expected = Self.foundation(bytes)
            if url.lastPathComponent.contains("stray") || expected == nil {
                continue  // the GCR body with a stray brace: read by `prefix`, below
            }
            #expect(Self.ours(bytes) == expected, "\(url.lastPathComponent)")
        }
    }

    @Test func edgeCasesReadAsFoundationReadsThem() throws {
        for line in try Self.lines("valid.txt") {
            let bytes = Array(line.utf8)
            let ours = Self.ours(bytes)
            #expect(ours != nil, "\(line)")
            #expect(ours == Self.foundation(bytes), "\(line)")
        }
        let integers = try #require(try JSONReader.value(Array("[1, -2, 3.0]".utf8)) as? [Any])
        #expect(integers[0] as? Int == 1)
        #expect(integers[1] as? Int == -2)
        #expect(integers[2] as? Double == 3.0)
        #expect(try JSONReader.value([0xEF, 0xBB, 0xBF] + Array("[true]".utf8)) as? [Bool] == [true])  // a byte order mark
    }

    @Test func whatRFC8259RefusesIsRefusedWithWhereAndWhy() throws {
        for line in try Self.lines("invalid.txt") {
            let document = line.components(separatedBy: " ## ")[0]
            do {
                _ = try JSONReader.value(Array(document.utf8))
                Issue.record("accepted \(document)")
            } catch {
                #expect(!error.reason.isEmpty)
                #expect(error.offset <= document.utf8.count)
            }
        }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.value([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]) }  // bad UTF-8
        #expect(throws: JSONReader.Failure.self) { try JSONReader.value(Array("[\"a\u{01}b\"]".utf8)) }  // a raw control character
    }

    @Test func nestingIsBounded() throws {
        let within = String(repeating: "[", count: JSONReader.maximumDepth) + String(repeating: "]", count: JSONReader.maximumDepth)
        #expect(Self.ours(Array(within.utf8)) != nil)
        let deep = String(repeating: "[", count: 100_000)
        do {
            _ = try JSONReader.value(Array(deep.utf8))
            Issue.record("100,000 nested arrays were accepted")
        } catch {
            #expect(error.reason == "nested deeper than 512")
        }
    }

    @Test func aPrefixEndsWhereItsValueEnds() throws {
        let (value, end) = try JSONReader.prefix(Array(#"{"a": [1]}}"#.utf8))
        #expect(Canonical(value) == .object(["a": .array([.number(1)])]))
        #expect(end == 10)
    }

    /// Real payloads with bytes replaced, inserted or removed (a fixed seed, so every run
    /// checks the same 3,000 documents): wherever Foundation reads a damaged document, the
    /// reader reads the same value; whatever it refuses, the reader refuses too, except
    /// trailing commas, which only Foundation lets through.
    @Test func damagedPayloadsAreReadOrRefusedAsFoundationDoes() throws {
        var random = SplitMix64(seed: 0x1b2c_3d4e)
        let alphabet = Array(#"{}[]":,\ 0123456789.eE+-tfnulra"#.utf8)
        let documents = try Self.payloads.map { Array(try Data(contentsOf: $0)) }.filter { Self.foundation($0) != nil }
        var compared = 0
        for _ in 0..<3_000 {
            var bytes = documents[Int(random.next() % UInt64(documents.count))]
            for _ in 0...(random.next() % 3) {
                let index = Int(random.next() % UInt64(bytes.count))
                let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: bytes[index] = byte
                case 1: bytes.insert(byte, at: index)
                default: bytes.remove(at: index)
                }
            }
            let ours = Self.ours(bytes)
            let expected = Self.foundation(bytes)
            if let expected, ours == nil, trailingComma(bytes) { continue }
            #expect(ours == expected, "\(String(decoding: bytes, as: UTF8.self))")
            compared += 1
        }
        #expect(compared > 2_500)
    }

    /// Whether a `,` is followed (after whitespace) by `]` or `}` outside strings.
    func trailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false
        var escaped = false
        var afterComma = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                afterComma = false
            case UInt8(ascii: ","): afterComma = true
            case UInt8(ascii: "]"), UInt8(ascii: "}"): if afterComma { return true }
            case 0x20, 0x09, 0x0A, 0x0D: break
            default: afterComma = false
            }
        }
        return false
    }
}

/// A small seeded generator, so the damaged documents are the same in every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
