import CLibGit2

/// A Git object id (SHA-1), as a Sendable value.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible {
    /// 40 lowercase hex digits.
    public let hex: String

    init(_ oid: git_oid) {
        var copy = oid
        hex = withUnsafePointer(to: &copy) { pointer in
            var buffer = [CChar](repeating: 0, count: 41)
            git_oid_fmt(&buffer, pointer)
            buffer[40] = 0
            return String(cString: buffer)
        }
    }

    /// Parses 40 hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 40, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        self.hex = hex
    }

    var raw: git_oid {
        var oid = git_oid()
        git_oid_fromstr(&oid, hex)
        return oid
    }

    public var description: String { hex }
    /// The abbreviated form people read: 12 digits.
    public var short: String { String(hex.prefix(12)) }
}
