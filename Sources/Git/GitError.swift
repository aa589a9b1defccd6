import CLibGit2

/// A libgit2 failure: which call failed, a matchable code, and libgit2's own message.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers to match on.
    public enum Code: String, Sendable, Hashable {
        case authenticationFailed
        case certificateRejected
        case hostKeyUnknown
        /// The host's key contradicts known_hosts.
        case hostKeyChanged
        case notFound
        case nonFastForward
        case pushRejected
        case unreachable
        case corruptRepository
        case notOurs
        case storage
        case other
    }

    public let code: Code
    /// The libgit2 function (or step) that failed.
    public let operation: String
    /// libgit2's message (`git_error_last()`), or ours.
    public let message: String
    /// libgit2's return code, when there was one.
    public let status: Int32

    public init(_ code: Code, operation: String, message: String, status: Int32 = -1) {
        self.code = code
        self.operation = operation
        self.message = message
        self.status = status
    }

    public var description: String { "\(operation): \(message)" }
}

/// Turns a libgit2 status into a Swift error carrying `git_error_last()`'s message.
@discardableResult
func check(_ status: Int32, _ operation: String) throws(GitError) -> Int32 {
    guard status < 0 else { return status }
    throw GitError.last(status: status, operation: operation)
}

extension GitError {
    /// The error libgit2 recorded for the failed call on this thread.
    static func last(status: Int32, operation: String) -> GitError {
        var message = "failed with code \(status)"
        var errorClass: Int32 = 0
        if let last = git_error_last(), let text = last.pointee.message {
            message = String(cString: text)
            errorClass = last.pointee.klass
        }
        return GitError(
            classify(status: status, errorClass: errorClass, message: message), operation: operation, message: message, status: status)
    }

    static func classify(status: Int32, errorClass: Int32, message: String) -> Code {
        switch status {
        case GIT_ENOTFOUND.rawValue: return .notFound
        case GIT_ENONFASTFORWARD.rawValue: return .nonFastForward
        case GIT_EAUTH.rawValue: return .authenticationFailed
        case GIT_ECERTIFICATE.rawValue: return .certificateRejected
        default: break
        }
        let lower = message.lowercased()
        if lower.contains("authentication") || lower.contains("401") || lower.contains("too many redirects or authentication replays") {
            return .authenticationFailed
        }
        switch Int32(bitPattern: UInt32(errorClass)) {
        case Int32(GIT_ERROR_NET.rawValue), Int32(GIT_ERROR_HTTP.rawValue), Int32(GIT_ERROR_SSH.rawValue), Int32(GIT_ERROR_OS.rawValue):
            if lower.contains("connect") || lower.contains("resolve") || lower.contains("refused") || lower.contains("timed out") {
                return .unreachable
            }
        case Int32(GIT_ERROR_ODB.rawValue), Int32(GIT_ERROR_ZLIB.rawValue), Int32(GIT_ERROR_OBJECT.rawValue):
            return .corruptRepository
        default: break
        }
        if lower.contains("could not find repository") || lower.contains("not a git repository") { return .notFound }
        return .other
    }
}
