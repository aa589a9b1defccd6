/// A file-system problem while scanning or writing a working directory.
public struct WorkspaceError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notADirectory
        case readFailed
        case writeFailed
        case outsideRoot
    }

    public let code: Code
    public let path: String
    public let detail: String

    public init(_ code: Code, path: String, detail: String) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    public var description: String { "\(path): \(detail)" }
}
