import CShims
import Glibc

/// A Linux errno value. Handlers return these; the tracee sees -value.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The errno left by the last failed libc call.
    public static var current: Errno { Errno(errno) }

    /// Its symbolic name ("ENOENT"), or "" when unknown.
    public var name: String { String(cString: moat_errno_name(rawValue)) }

    public static let notPermitted = Errno(EPERM)
    public static let noSuchFile = Errno(ENOENT)
    public static let noSuchProcess = Errno(ESRCH)
    public static let noChild = Errno(ECHILD)
    public static let fault = Errno(EFAULT)
    public static let invalid = Errno(EINVAL)
    public static let notImplemented = Errno(ENOSYS)

    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }
}
