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
            while let header = ControlMessageHeader(control, at: offset) {
                let start = offset + ControlMessageHeader.size
                guard header.length >= ControlMessageHeader.size, header.length <= control.count - offset else { throw Errno.invalid }
                let data = Array(control[start..<(offset + header.length)])
                if header.level == SOL_SOCKET {
                    switch header.type {
                    case ControlMessageHeader.rights:
                        let count = data.count / MemoryLayout<Int32>.size
                        guard fds.count + count <= ControlMessages.maxFDs else { throw Errno.invalid }
                        for index in 0..<count {
                            let fd = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * MemoryLayout<Int32>.size, as: Int32.self) }
                            let ours = ThreadCalls.takeFD(of: t.group.hostTgid, fd)
                            if ours < 0 { throw Errno(EBADF) }
                            fds.append(ours)
                            passed.append(ours)
                        }
                    case ControlMessageHeader.credentials:
                        guard let claimed = UserCredentials(data) else { throw Errno.invalid }
                        explicit = (claimed.pid, claimed.uid, claimed.gid)
                    default:
                        throw Errno.invalid
                    }
                }
                offset += ControlMessageHeader.aligned(header.length)
            }
            let sender: (pid: HostTid, uid: UInt32, gid: UInt32)
            if let explicit {
                try ControlMessages.check(explicit, vpid: t.group.vpid, credentials)
                guard let host = hostPid(explicit.pid) else { throw Errno.noSuchProcess }
                sender = (host, explicit.uid, explicit.gid)
            } else {
                sender = (t.group.hostTgid, credentials.realUID, credentials.realGID)
            }
            if !passed.isEmpty { append(type: ControlMessageHeader.rights, passed.withUnsafeBytes { Array($0) }) }
            append(type: ControlMessageHeader.credentials, UserCredentials(pid: sender.pid, uid: sender.uid, gid: sender.gid).bytes)
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
        bytes += ControlMessageHeader.bytes(level: SOL_SOCKET, type: type, dataLength: data.count) + data
        bytes += [UInt8](repeating: 0, count: ControlMessageHeader.aligned(bytes.count) - bytes.count)
    }

    func close() {
        for fd in fds { Glibc.close(fd) }
    }
}
