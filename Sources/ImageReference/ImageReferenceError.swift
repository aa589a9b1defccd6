/// Why a string is not a valid container image reference.
///
/// Callers match ``code``; ``description`` is a whole sentence for people.
public struct ImageReferenceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule of the distribution reference grammar the input broke.
    public enum Code: String, Sendable, Hashable {
        case empty
        case uppercaseRepository
        case invalidDomain
        case invalidPathComponent
        case nameTooLong
        case invalidTag
        case invalidDigest
    }

    public let code: Code
    /// The text that was being parsed.
    public let input: String
    /// What exactly is wrong with it.
    public let reason: String

    public init(_ code: Code, input: String, reason: String) {
        self.code = code
        self.input = input
        self.reason = reason
    }

    public var description: String { "\"\(input)\" is not a valid image reference: \(reason)" }
}
