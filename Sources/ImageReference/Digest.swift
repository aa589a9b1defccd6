/// A content digest such as `sha256:9f86d0…`, validated as the OCI spec requires.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The algorithm, e.g. `sha256`.
    public let algorithm: String
    /// The encoded hash, e.g. 64 lowercase hex digits for sha256.
    public let encoded: String

    /// Parses `algorithm:encoded`; registered algorithms get their exact length checked.
    public init(parsing text: some StringProtocol) throws(ImageReferenceError) {
        let input = String(text)
        func fail(_ reason: String) -> ImageReferenceError {
            ImageReferenceError(.invalidDigest, input: input, reason: reason)
        }
        guard let colon = input.firstIndex(of: ":") else {
            throw fail("a digest is written algorithm:hex, e.g. sha256:<64 hex digits>")
        }
        let algorithm = input[..<colon]
        let encoded = input[input.index(after: colon)...]
        // digest-algorithm := component [separator component]*, component := [a-z0-9]+
        let components = algorithm.split(separator: "+", omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: ".", omittingEmptySubsequences: false) }
            .flatMap { $0.split(separator: "_", omittingEmptySubsequences: false) }
            .flatMap { $0.split(separator: "-", omittingEmptySubsequences: false) }
        guard !algorithm.isEmpty,
            components.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(ASCII.isLowerAlphanumeric) })
        else { throw fail("the algorithm \"\(algorithm)\" must be lowercase letters and digits") }
        switch algorithm {
        case "sha256", "sha512":
            let length = algorithm == "sha256" ? 64 : 128
            guard encoded.utf8.count == length, encoded.utf8.allSatisfy(ASCII.isLowerHex) else {
                throw fail("\(algorithm) needs exactly \(length) lowercase hex digits")
            }
        default:
            guard encoded.utf8.count >= 32, encoded.utf8.allSatisfy(ASCII.isDigestEncoded) else {
                throw fail("the encoded part needs at least 32 characters of [a-zA-Z0-9=_-]")
            }
        }
        self.algorithm = String(algorithm)
        self.encoded = String(encoded)
    }

    public var description: String { "\(algorithm):\(encoded)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}
