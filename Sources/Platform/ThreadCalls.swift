import CShims
import Glibc

/// Host calls on threads and processes that glibc does not wrap, or wraps
/// for the whole process where the sentry needs one thread: over CShims.
public enum ThreadCalls {
    /// A `struct sysinfo` as the kernel fills it.
    public typealias SystemInfo = CShims.sysinfo

    /// tgkill(2): 0 or -1 with errno.
    @discardableResult
    public static func tgkill(_ tgid: pid_t, _ tid: pid_t, _ signal: Int32) -> Int32 {
        moat_tgkill(tgid, tid, signal)
    }

    /// setns(2) for this thread only: 0 or -errno.
    public static func setns(_ fd: Int32) -> Int {
        moat_setns(fd)
    }

    /// unshare(CLONE_FS) for this thread: its own cwd and umask. 0 or -errno.
    public static func unshareFS() -> Int32 {
        moat_unshare_fs()
    }

    /// This thread's fs ids, groups and effective capabilities become these: 0 or -errno.
    public static func enterCredentials(fsUID: UInt32, fsGID: UInt32, groups: [UInt32], effective: UInt64) -> Int32 {
        groups.withUnsafeBufferPointer { moat_enter_credentials(fsUID, fsGID, $0.baseAddress, Int32($0.count), effective) }
    }

    /// Back to the supervisor's own credentials on this thread.
    public static func leaveCredentials() {
        _ = moat_leave_credentials()
    }

    /// pidfd_getfd(2): this process's copy of another's fd, or -errno.
    public static func takeFD(of pid: pid_t, _ target: Int32) -> Int32 {
        moat_take_fd(pid, target)
    }

    /// prlimit64 on another process: sets `set` ({soft, hard}) when given,
    /// stores the previous limits in `got` when given. 0 or -errno.
    public static func limits(_ pid: pid_t, _ resource: Int32, set: UnsafePointer<UInt64>?, got: UnsafeMutablePointer<UInt64>?) -> Int32 {
        moat_limits(pid, resource, set, got)
    }

    /// Another process's soft limit of `resource`, or nil.
    public static func softLimit(_ pid: pid_t, _ resource: Int32) -> UInt64? {
        var soft: UInt64 = 0
        return moat_soft_limit(pid, resource, &soft) == 0 ? soft : nil
    }

    /// At a signal-delivery stop: restarts a call interrupted while waiting for
    /// the sentry when `neverInterrupted[nr]` says so. 1 if it did, 0 if not, -errno.
    public static func restartInterrupted(_ pid: pid_t, neverInterrupted: [UInt8]) -> Int32 {
        neverInterrupted.withUnsafeBufferPointer { moat_restart_interrupted(pid, $0.baseAddress, Int32($0.count)) }
    }

    /// The CPU's time-stamp counter.
    public static func rdtsc() -> UInt64 { moat_rdtsc() }

    /// A tracee stopped with SIGSEGV at rdtsc/rdtscp: answered with the host
    /// counter minus `base`. 1 if it was one, 0 if a real fault, -errno.
    public static func emulateRdtsc(_ pid: pid_t, base: UInt64) -> Int32 {
        moat_emulate_rdtsc(pid, base)
    }

    /// sysinfo(2).
    public static func sysinfo() throws(Errno) -> SystemInfo {
        var info = SystemInfo()
        let result = moat_sysinfo(&info)
        if result < 0 { throw Errno(-result) }
        return info
    }
}
