import Foundation
import ImageReference

/// An `# imagebump: IMAGE[:tag|:name]` or `# {"$imagepolicy": "ns:policy[:tag|:name]"}` comment.
struct MarkerComment: Hashable {
    /// Which part of the image the value on the marker's line holds.
    enum Field: Hashable { case whole, tag, name }

    let line: Int
    /// Byte offset of the `#` that starts the comment.
    let commentStart: Int
    let image: ImageName
    let field: Field
    let kind: ReferenceKind
}

/// A marker that names something imagebump cannot use, reported with its line.
public struct MarkerProblem: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public var description: String { "\(file):\(line): \(message)" }
}

enum MarkerScanner {
    static let ownPrefix = Array("imagebump:".utf8)
    static let fluxKey = Array("$imagepolicy".utf8)

    /// Finds every marker comment. A marker on a line that is itself a comment is a
    /// commented-out value, not a reference, and is ignored.
    static func scan(
        _ source: SourceText, file: String, fluxPolicies: [String: ImageName]
    ) -> (markers: [MarkerComment], problems: [MarkerProblem]) {
        var markers: [MarkerComment] = []
        var problems: [MarkerProblem] = []
        let bytes = source.bytes
        var seenLines: Set<Int> = []
        for needle in [ownPrefix, fluxKey] {
            var from = source.bodyStart
            while let hit = ByteSearch.firstRange(of: needle, in: bytes, from: from) {
                from = hit.upperBound
                let line = source.position(of: hit.lowerBound).line
                guard seenLines.insert(line).inserted else { continue }
                let range = source.lineRange(line)
                guard let hash = commentStart(bytes, range), hash < hit.lowerBound else { continue }
                let before = bytes[range.lowerBound..<hash]
                if before.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }  // commented-out line
                let comment = String(decoding: bytes[(hash + 1)..<range.upperBound], as: UTF8.self)
                    .trimmingBlanks()
                switch parse(comment, fluxPolicies: fluxPolicies) {
                case .marker(let image, let field, let kind)?:
                    markers.append(MarkerComment(line: line, commentStart: hash, image: image, field: field, kind: kind))
                case .problem(let message)?:
                    problems.append(MarkerProblem(file: file, line: line, message: message))
                case nil:
                    break
                }
            }
        }
        return (markers.sorted { $0.line < $1.line }, problems)
    }

    private enum Parsed {
        case marker(ImageName, MarkerComment.Field, ReferenceKind)
        case problem(String)
    }

    private static func parse(_ comment: String, fluxPolicies: [String: ImageName]) -> Parsed? {
        if comment.hasPrefix("imagebump:") {
            var spec = comment.dropFirst("imagebump:".count).trimmingBlanks()
            let (field, rest) = splitField(spec)
            spec = rest
            do {
                return .marker(try ImageName(parsing: spec), field, .marker)
            } catch {
                return .problem(
                    "the marker \"# \(comment)\" does not name an image: \(error.reason); write # imagebump: REGISTRY/REPOSITORY[:tag|:name]"
                )
            }
        }
        // Flux: {"$imagepolicy": "namespace:policy[:tag|:name]"}
        guard comment.hasPrefix("{"), let key = comment.range(of: "\"$imagepolicy\"") else { return nil }
        let afterKey = comment[key.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        guard afterKey.first == "\"", let close = afterKey.dropFirst().firstIndex(of: "\"") else {
            return .problem("the Flux marker \"# \(comment)\" is not {\"$imagepolicy\": \"namespace:policy\"}")
        }
        let (field, policy) = splitField(String(afterKey[afterKey.index(after: afterKey.startIndex)..<close]))
        guard let image = fluxPolicies[policy] else {
            return .problem("the Flux image policy \"\(policy)\" is not mapped to an image; add it to images[].fluxPolicies in the config")
        }
        return .marker(image, field, .fluxMarker)
    }

    private static func splitField(_ spec: String) -> (MarkerComment.Field, String) {
        for (suffix, field) in [(":tag", MarkerComment.Field.tag), (":name", .name)] where spec.hasSuffix(suffix) {
            return (field, String(spec.dropLast(suffix.count)))
        }
        return (.whole, spec)
    }

    /// The offset of the `#` starting a comment on the line: at the line start or after a
    /// blank, outside quotes.
    static func commentStart(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        var quote: UInt8?
        var previous: UInt8 = 0x20
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if let open = quote {
                if byte == UInt8(ascii: "\\"), open == UInt8(ascii: "\"") {
                    index += 2
                    continue
                }
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "#"), previous == 0x20 || previous == 0x09 {
                return index
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'"),
                [
                    0x20, 0x09, UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","),
                    UInt8(ascii: "-"),
                ].contains(previous)
            {
                quote = byte
            }
            previous = byte
            index += 1
        }
        return nil
    }

    /// The value before a marker in a file that is not parsed as YAML: a quoted string, or the
    /// last blank-separated token after any `=`.
    static func textualValue(_ source: SourceText, _ marker: MarkerComment) -> LocatedScalar? {
        let bytes = source.bytes
        let lineStart = source.lineRange(marker.line).lowerBound
        var end = marker.commentStart
        while end > lineStart, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        guard end > lineStart else { return nil }
        var start: Int
        if bytes[end - 1] == UInt8(ascii: "\"") || bytes[end - 1] == UInt8(ascii: "'") {
            let quote = bytes[end - 1]
            end -= 1
            start = end
            while start > lineStart, bytes[start - 1] != quote { start -= 1 }
            guard start > lineStart else { return nil }
        } else {
            start = end
            while start > lineStart, !SourceText.isBlankOrBreak(bytes[start - 1]), bytes[start - 1] != UInt8(ascii: "=") { start -= 1 }
        }
        guard start < end else { return nil }
        return LocatedScalar(value: source.string(start..<end), range: start..<end, style: .raw)
    }
}

extension StringProtocol {
    func trimmingBlanks() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}
