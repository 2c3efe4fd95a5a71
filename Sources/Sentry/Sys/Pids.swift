import Glibc
import Platform

/// Process and thread ids. The sandbox has its own pid namespace, so a
/// sandbox pid and the kernel's number for it are the same (getpid, gettid
/// and getppid run on the host); the sentry's part is to refuse any id that
/// is not in its table.
enum Pids {
    static func runOnHost(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        .runOnHost
    }

    /// Whether a positive pid names a process or a thread of the sandbox
    /// (exited but unreaped included). Linux finds any task by the number:
    /// kill, getpriority, prlimit and the sched_* calls take a thread's id
    /// as well (a new thread setting its own policy names its tid).
    /// In a shared pid namespace the kernel decides (see `Kernel.sharesPidNamespace`).
    static func known(_ k: Kernel, pid: Int32) -> Bool {
        pid <= 0 || k.sharesPidNamespace || k.pids.group(vpid: pid) != nil || k.pids.task(vtid: pid) != nil
    }

    /// For calls whose argument `index` is a pid (0 or negative: self or a group).
    static func checkedPid(_ index: Int) -> SyscallHandler {
        { k, _, a throws(Errno) in
            guard known(k, pid: a.int32(index)) else { throw .noSuchProcess }
            return .runOnHost
        }
    }

    /// wait4's pid: a pid outside the sandbox is no child of the caller.
    static func checkedWait(_ index: Int) -> SyscallHandler {
        { k, _, a throws(Errno) in
            guard known(k, pid: a.int32(index)) else { throw .noChild }
            return .runOnHost
        }
    }

    /// waitid(idtype, id, ...): P_PID (1) names a pid.
    static func checkedWaitid(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        if a.int32(0) == 1 && !known(k, pid: a.int32(1)) { throw .noChild }
        return .runOnHost
    }

    /// tgkill(tgid, tid, sig) and rt_tgsigqueueinfo(tgid, tid, ...).
    static func checkedTgkill(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let tgid = a.int32(0)
        let tid = a.int32(1)
        guard tgid > 0, tid > 0 else { throw .invalid }
        if k.sharesPidNamespace && k.pids.task(vtid: tid) == nil { return .runOnHost }
        guard let task = k.pids.task(vtid: tid), task.group.vpid == tgid else { throw .noSuchProcess }
        return .runOnHost
    }

    /// getpriority/setpriority(which, who) and ioprio_get/set(which, who):
    /// which 1 is a single process in both families.
    static func checkedPriority(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let which = a.int32(0)
        let who = a.int32(1)
        // ioprio_set is 251, ioprio_get 252.
        let isProcess = a.number == 251 || a.number == 252 ? which == 1 : which == 0
        if isProcess && !known(k, pid: who) { throw .noSuchProcess }
        return .runOnHost
    }
}
