import Platform

/// Namespaces the workload asks for. The sandbox's own are made by the
/// supervisor; a workload may not make new ones.
enum Namespaces {
    /// What unshare(2) accepts at all: CLONE_THREAD, CLONE_FS, CLONE_SIGHAND,
    /// CLONE_VM, CLONE_FILES, CLONE_SYSVSEM and the namespace flags.
    static let unshareFlags: UInt64 =
        0x0001_0000 | 0x0000_0200 | 0x0000_0800 | 0x0000_0100 | 0x0000_0400 | 0x0004_0000
        | UInt64(Linux.allNamespaceFlags)

    /// unshare implements Linux syscall unshare(2), validated in Linux's
    /// order: unknown flags are EINVAL, new namespaces EPERM, and the rest
    /// (unshare(0), CLONE_FS, CLONE_FILES, CLONE_SYSVSEM, and what the kernel
    /// decides for CLONE_THREAD/VM/SIGHAND) runs on the host. The flags are a
    /// register: the call runs with exactly the value checked.
    static func unshare(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let flags = a[0]
        guard flags & ~unshareFlags == 0 else { throw .invalid }
        guard flags & UInt64(Linux.allNamespaceFlags) == 0 else { throw .notPermitted }
        return .runOnHost
    }
}
