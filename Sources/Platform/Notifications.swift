import CShims
import Glibc

/// A syscall held by seccomp user notification: the thread waits in the
/// kernel, not in a ptrace stop, until the sentry answers.
public struct Notification: Sendable {
    public let id: UInt64
    public let tid: HostTid
    public let args: SyscallArgs
}

/// The listener fd of the workload's filter.
public struct NotificationListener: Sendable {
    public let fd: Int32

    /// Whether this kernel can hand the CPU over on notify and on answer
    /// (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6). Without it every call
    /// pays a cross-CPU wake-up, which costs more than a ptrace stop here.
    public static var syncWakeUpAvailable: Bool {
        var name = utsname()
        guard uname(&name) == 0 else { return false }
        let release = withUnsafeBytes(of: name.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return false }
        return parts[0] > 6 || (parts[0] == 6 && parts[1] >= 6)
    }

    func receive() -> Notification? {
        var raw = moat_notification()
        guard moat_notification_receive(fd, &raw) == 0 else { return nil }
        return Notification(raw)
    }

    /// Waits for the next call until one comes or `attention` is raised
    /// (see ServingPool.kick); the errno otherwise.
    func receive(unless attention: UnsafeMutablePointer<Int32>) -> Result<Notification, Errno> {
        var raw = moat_notification()
        let rc = moat_notification_receive_interruptible(fd, &raw, attention)
        return rc == 0 ? .success(Notification(raw)) : .failure(Errno(-rc))
    }
}

extension Notification {
    init(_ raw: moat_notification) {
        var args = SyscallArgs(
            number: raw.nr, arch: raw.arch, stackPointer: 0,
            raw: (raw.args.0, raw.args.1, raw.args.2, raw.args.3, raw.args.4, raw.args.5))
        args.instructionPointer = raw.instruction_pointer
        self.init(id: raw.id, tid: HostTid(bitPattern: raw.pid), args: args)
    }
}

extension NotificationListener {
    /// Answers: the call returns `value` (negative: -errno).
    public func complete(_ notification: Notification, value: Int) {
        let error = value < 0 && value >= -4095 ? Int32(value) : 0
        _ = moat_notification_respond(fd, notification.id, Int64(error == 0 ? value : 0), error, 0)
    }

    /// Whether the caller still waits for the answer (not interrupted, not killed).
    public func stillWaits(_ notification: Notification) -> Bool {
        moat_notification_id_valid(fd, notification.id) != 0
    }

    /// Installs `fd` in the caller at its lowest free number and answers the
    /// call with that number, at once (SECCOMP_IOCTL_NOTIF_ADDFD with SEND):
    /// the number, or -errno (the call then still waits for an answer).
    public func donate(_ notification: Notification, fd: Int32, cloexec: Bool) -> Int {
        Int(moat_notification_donate(self.fd, notification.id, fd, cloexec ? 1 : 0))
    }

    /// Lets the host run the call as it is (only after checks on register arguments).
    public func runOnHost(_ notification: Notification) {
        _ = moat_notification_respond(fd, notification.id, 0, 0, 1)
    }
}
