import CShims
import Glibc

/// Unix socket calls on a path the sentry resolves: made on the supervisor's
/// copy of the caller's socket, from inside the sandbox's root, over CShims.
public enum UnixPathCalls {
    public enum Operation: Sendable {
        case bind, sendto

        var raw: Int32 { self == .bind ? Int32(MOAT_UNIX_BIND) : Int32(MOAT_UNIX_SENDTO) }
    }

    /// One bind or sendto and what the peer is to see of its caller.
    public struct Request {
        public var socket: Int32
        /// A sockaddr_un, as the caller gave it.
        public var address: [UInt8]
        public var operation: Operation
        public var data: [UInt8] = []
        public var flags: Int32 = 0
        /// Where the path is resolved: the sandbox's root, the caller's cwd.
        public var sandboxRoot: Int32
        public var callerCWD: Int32
        /// Where the serving thread returns to, and its home directory.
        public var hostRoot: Int32
        public var home: Int32
        /// Real uid, effective uid, real gid, effective gid the peer is to see.
        public var callerIDs: [UInt32]
        public var callerCapabilities: UInt64
        /// Control messages to send with the data, and the capabilities that needs beyond the caller's.
        public var control: [UInt8] = []
        public var controlCapabilities: UInt64 = 0

        public init(
            socket: Int32, address: [UInt8], operation: Operation, sandboxRoot: Int32, callerCWD: Int32,
            hostRoot: Int32, home: Int32, callerIDs: [UInt32], callerCapabilities: UInt64
        ) {
            self.socket = socket
            self.address = address
            self.operation = operation
            self.sandboxRoot = sandboxRoot
            self.callerCWD = callerCWD
            self.hostRoot = hostRoot
            self.home = home
            self.callerIDs = callerIDs
            self.callerCapabilities = callerCapabilities
        }
    }

    /// Makes the call: 0 (bind), the bytes sent (sendto), or -errno.
    public static func perform(_ r: Request) -> Int {
        r.address.withUnsafeBytes { address in
            r.data.withUnsafeBytes { data in
                r.control.withUnsafeBytes { control in
                    r.callerIDs.withUnsafeBufferPointer { ids in
                        moat_unix_in_root(
                            r.socket, address.baseAddress, UInt32(address.count), r.operation.raw, data.baseAddress, data.count,
                            r.flags, r.sandboxRoot, r.callerCWD, r.hostRoot, r.home, ids.baseAddress, r.callerCapabilities,
                            control.baseAddress, control.count, r.controlCapabilities)
                    }
                }
            }
        }
    }

    /// The file a connected socket's peer is bound to (sock_diag): its
    /// device and inode, or -errno (-ENOTCONN: no peer any more).
    public static func peerFile(_ socket: Int32) -> Result<(device: UInt64, inode: UInt32), Errno> {
        var device: UInt64 = 0
        var inode: UInt32 = 0
        let rc = moat_unix_peer_file(socket, &device, &inode)
        return rc == 0 ? .success((device, inode)) : .failure(Errno(-rc))
    }
}
