import Glibc
import Platform

/// The control messages of a sendmsg the sentry makes for a workload thread
/// (a datagram to a unix socket path), rebuilt as the supervisor must send
/// them: the fds SCM_RIGHTS names are the caller's (each taken with
/// pidfd_getfd), and SCM_CREDENTIALS is checked as the kernel checks the
/// caller's (its own pid and ids, or CAP_SYS_ADMIN / CAP_SETUID /
/// CAP_SETGID) and carries its host pid. Without explicit credentials the
/// caller's are attached, as the kernel would attach them for it: a
/// receiver with SO_PASSCRED sees the caller, never the supervisor.
struct ControlMessages {
    /// Control bytes to send, and the fds in them (ours, closed by `close`).
    private(set) var bytes: [UInt8] = []
    private(set) var fds: [Int32] = []

    static let rights: Int32 = 1, credentials: Int32 = 2
    /// SCM_MAX_FD: the kernel's limit on fds in one message.
    static let maxFDs = 253
    static let capSetGID: UInt64 = 1 << 6, capSetUID: UInt64 = 1 << 7, capSysAdmin: UInt64 = 1 << 21

    /// What the send needs beyond the caller's file capabilities: the
    /// credentials it carries were checked against the caller already.
    static let neededCapabilities = capSysAdmin | capSetUID | capSetGID

    /// The caller's control buffer (copied once) made ours; throws what the kernel would.
    init(caller control: [UInt8], of t: Task, credentials: Credentials, hostPid: (Int32) -> HostTid?) throws(Errno) {
        var passed: [Int32] = []
        var explicit: (pid: Int32, uid: UInt32, gid: UInt32)?
        var offset = 0
        do throws(Errno) {
            while offset + 16 <= control.count {
                let (length, level, type) = control.withUnsafeBytes {
                    (
                        Int(truncatingIfNeeded: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                        $0.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self),
                        $0.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self)
                    )
                }
                guard length >= 16, length <= control.count - offset else { throw Errno.invalid }
                let data = Array(control[(offset + 16)..<(offset + length)])
                if level == SOL_SOCKET {
                    switch type {
                    case ControlMessages.rights:
                        let count = data.count / 4
                        guard fds.count + count <= ControlMessages.maxFDs else { throw Errno.invalid }
                        for index in 0..<count {
                            let fd = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: Int32.self) }
                            let ours = ThreadCalls.takeFD(of: t.group.hostTgid, fd)
                            if ours < 0 { throw Errno(EBADF) }
                            fds.append(ours)
                            passed.append(ours)
                        }
                    case ControlMessages.credentials:
                        guard data.count == 12 else { throw Errno.invalid }
                        explicit = data.withUnsafeBytes {
                            (
                                $0.loadUnaligned(fromByteOffset: 0, as: Int32.self), $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
                                $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
                            )
                        }
                    default:
                        throw Errno.invalid
                    }
                }
                offset += (length + 7) & ~7
            }
            let sender: (pid: HostTid, uid: UInt32, gid: UInt32)
            if let explicit {
                try ControlMessages.check(explicit, vpid: t.group.vpid, credentials)
                guard let host = hostPid(explicit.pid) else { throw Errno.noSuchProcess }
                sender = (host, explicit.uid, explicit.gid)
            } else {
                sender = (t.group.hostTgid, credentials.realUID, credentials.realGID)
            }
            if !passed.isEmpty { append(type: ControlMessages.rights, passed.withUnsafeBytes { Array($0) }) }
            var ucred = [UInt8](repeating: 0, count: 12)
            ucred.withUnsafeMutableBytes {
                $0.storeBytes(of: sender.pid, toByteOffset: 0, as: Int32.self)
                $0.storeBytes(of: sender.uid, toByteOffset: 4, as: UInt32.self)
                $0.storeBytes(of: sender.gid, toByteOffset: 8, as: UInt32.self)
            }
            append(type: ControlMessages.credentials, ucred)
        } catch {
            close()
            throw error
        }
    }

    /// scm_check_creds: the caller may claim its own pid and any of its
    /// real, effective or saved ids; other values need capabilities.
    static func check(_ claimed: (pid: Int32, uid: UInt32, gid: UInt32), vpid: Int32, _ c: Credentials) throws(Errno) {
        let pidOK = claimed.pid == vpid || c.effective & capSysAdmin != 0
        let uidOK = c.uids.prefix(3).contains(claimed.uid) || c.effective & capSetUID != 0
        let gidOK = c.gids.prefix(3).contains(claimed.gid) || c.effective & capSetGID != 0
        guard pidOK && uidOK && gidOK else { throw Errno.notPermitted }
    }

    private mutating func append(type: Int32, _ data: [UInt8]) {
        var header = [UInt8](repeating: 0, count: 16)
        header.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt64(16 + data.count), toByteOffset: 0, as: UInt64.self)
            $0.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
            $0.storeBytes(of: type, toByteOffset: 12, as: Int32.self)
        }
        bytes += header + data
        bytes += [UInt8](repeating: 0, count: (8 - bytes.count % 8) % 8)
    }

    func close() {
        for fd in fds { Glibc.close(fd) }
    }
}
