import CShims
import Glibc

/// A thread of the workload as the host kernel names it.
public typealias HostTid = pid_t

/// What the tracer saw at one wait.
public enum Stop: Sendable {
    /// A seccomp-trapped syscall entry; registers hold the call.
    case syscall(HostTid, SyscallArgs)
    /// The exit of a call resumed with `resumeToExit`: its result.
    case syscallExit(HostTid, result: Int64)
    /// fork, vfork or clone created `child`; the parent is stopped.
    case newTask(parent: HostTid, child: HostTid)
    /// execve succeeded in `tid`; `formerTid` is the thread that called it
    /// (a non-leader's exec takes over the leader's tid).
    case exec(HostTid, formerTid: HostTid)
    /// Group-stop (SIGSTOP, SIGTSTP ...): the tracee must stay stopped.
    case groupStop(HostTid, signal: Int32)
    /// A signal is about to be delivered; resume with it to deliver it.
    case signal(HostTid, signal: Int32)
    /// Any other ptrace event stop (the first stop of a new task, PTRACE_INTERRUPT).
    case eventStop(HostTid)
    case exited(HostTid, code: Int32)
    case killed(HostTid, signal: Int32)
}

/// The arguments of a trapped syscall, read once in one request.
public struct SyscallArgs: Sendable {
    public var number: Int32
    public var arch: UInt32
    public var stackPointer: UInt64
    /// Where the call was made (just after its syscall instruction).
    public var instructionPointer: UInt64 = 0
    public var raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    public init(
        number: Int32, arch: UInt32 = 0xC000_003E, stackPointer: UInt64 = 0,
        raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    ) {
        self.number = number
        self.arch = arch
        self.stackPointer = stackPointer
        self.raw = raw
    }

    public subscript(index: Int) -> UInt64 {
        switch index {
        case 0: raw.0
        case 1: raw.1
        case 2: raw.2
        case 3: raw.3
        case 4: raw.4
        default: raw.5
        }
    }

    /// Argument `index` as a signed C int (pids, fds, clock ids).
    public func int32(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: self[index]) }
}

/// The ptrace + seccomp platform. Every method must be called from the one
/// OS thread that spawned the workload: ptrace belongs to the tracing thread.
public final class PtraceTracer {
    /// How long to poll for the next ptrace stop before sleeping (MOAT_SPIN_NS).
    let spinNanoseconds: Int64

    public init() {
        var spin: Int64 = 30_000
        if let text = getenv("MOAT_SPIN_NS"), let ns = Int64(String(cString: text)) { spin = ns }
        spinNanoseconds = spin
    }

    /// Attaches to a freshly spawned child before it loads its filter.
    public func seize(_ pid: HostTid) throws(Errno) {
        let result = moat_ptrace_seize(pid, moat_trace_options())
        if result < 0 { throw Errno(Int32(-result)) }
    }

    /// What one wait status means; nil when there is nothing to act on.
    func decode(_ tid: HostTid, _ status: Int32) -> Stop? {
        if moat_wifexited(status) != 0 { return .exited(tid, code: moat_wexitstatus(status)) }
        if moat_wifsignaled(status) != 0 { return .killed(tid, signal: moat_wtermsig(status)) }
        guard moat_wifstopped(status) != 0 else { return nil }
        let signal = moat_wstopsig(status)
        switch (status >> 16) & 0xff {
        case 0 where signal == SIGTRAP | 0x80:
            var result: Int64 = 0
            guard moat_get_syscall_result(tid, &result) == 0 else { return nil }
            return .syscallExit(tid, result: result)
        case 0:
            return .signal(tid, signal: signal)
        case PTRACE_EVENT_SECCOMP_VALUE:
            var args = moat_syscall_args()
            // The thread can die (SIGKILL from a sibling) between stop and request.
            guard moat_get_syscall_args(tid, &args) == 0 else { return nil }
            var decoded = SyscallArgs(
                number: args.nr, arch: args.arch, stackPointer: args.stack_pointer,
                raw: (args.args.0, args.args.1, args.args.2, args.args.3, args.args.4, args.args.5))
            decoded.instructionPointer = args.instruction_pointer
            return .syscall(tid, decoded)
        case PTRACE_EVENT_FORK_VALUE, PTRACE_EVENT_VFORK_VALUE, PTRACE_EVENT_CLONE_VALUE:
            var child: UInt = 0
            if moat_ptrace_geteventmsg(tid, &child) < 0 { return nil }
            return .newTask(parent: tid, child: HostTid(truncatingIfNeeded: child))
        case PTRACE_EVENT_EXEC_VALUE:
            var former: UInt = 0
            if moat_ptrace_geteventmsg(tid, &former) < 0 { former = UInt(tid) }
            return .exec(tid, formerTid: HostTid(truncatingIfNeeded: former))
        case PTRACE_EVENT_STOP_VALUE:
            switch signal {
            case SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: return .groupStop(tid, signal: signal)
            default: return .eventStop(tid)
            }
        default:
            return .eventStop(tid)
        }
    }

    /// Resumes a stopped tracee, delivering `signal` if non-zero. A tracee
    /// that died meanwhile is not an error: its exit arrives at the next wait.
    public func resume(_ tid: HostTid, signal: Int32 = 0) {
        _ = moat_ptrace_cont(tid, signal)
    }

    /// Lets a trapped call run on the host and stops again at its exit
    /// (`Stop.syscallExit`), for tracing what it returned.
    public func resumeToExit(_ tid: HostTid) {
        _ = moat_ptrace_syscall(tid)
    }

    /// At a signal-delivery stop: whether the kernel raised the signal for a
    /// fault of the tracee's own (si_code > 0) rather than a process sending it.
    public func signalIsAFault(_ tid: HostTid) -> Bool {
        var code: Int32 = 0
        return moat_signal_code(tid, &code) == 0 && code > 0
    }

    /// Stops a running tracee soon (an event stop), wherever it is.
    public func interrupt(_ tid: HostTid) {
        _ = moat_ptrace_interrupt(tid)
    }

    /// Makes a stopped tracee reap these children of its (zombies); how many
    /// it reaped, and a signal that arrived meanwhile (to deliver on resuming).
    public func reap(in tid: HostTid, children: [Int32]) throws(Errno) -> (reaped: Int, deferredSignal: Int32) {
        var deferred: Int32 = 0
        let rc = children.withUnsafeBufferPointer { moat_reap_zombies(tid, $0.baseAddress, Int32($0.count), &deferred) }
        if rc < 0 { throw Errno(Int32(-rc)) }
        return (rc, deferred)
    }

    /// Gives our fd to a stopped tracee (a socketpair dance with injected
    /// calls; `scratch` is 512 bytes of its memory nobody uses): its new fd
    /// number, close-on-exec, and a signal that arrived meanwhile, if any.
    public func give(_ fd: Int32, to tid: HostTid, process tgid: HostTid, scratch: UInt64) throws(Errno) -> (fd: Int32, deferredSignal: Int32) {
        var deferred: Int32 = 0
        let rc = moat_give_fd(tid, tgid, fd, scratch, &deferred)
        if rc < 0 { throw Errno(Int32(-rc)) }
        return (Int32(rc), deferred)
    }

    /// Leaves a tracee in group-stop while still reporting its next event.
    public func listen(_ tid: HostTid) {
        _ = moat_ptrace_listen(tid)
    }

    /// Skips the trapped call: the tracee sees `value` as its result.
    public func complete(_ tid: HostTid, value: Int) {
        _ = moat_complete_syscall(tid, value)
    }

    /// Replaces argument `index` of the trapped call before the host runs it.
    public func setArgument(_ tid: HostTid, index: Int, to value: UInt64) throws(Errno) {
        let rc = moat_set_syscall_arg(tid, Int32(index), value)
        if rc < 0 { throw Errno(Int32(-rc)) }
    }

    /// At a syscall-exit stop: the tracee makes the same call again, with
    /// argument `index` (0-3) replaced by `value`.
    public func repeatCall(_ tid: HostTid, index: Int, to value: UInt64) throws(Errno) {
        let rc = moat_repeat_syscall(tid, Int32(index), value)
        if rc < 0 { throw Errno(Int32(-rc)) }
    }

    /// At a syscall-exit stop: the call returns `value` instead of its result.
    public func setResult(_ tid: HostTid, value: Int) {
        _ = moat_set_syscall_result(tid, value)
    }

    /// Takes a tracee held at an exec stop out of execve, so that calls can
    /// be injected; a signal that arrived meanwhile, if any.
    public func stepOutOfSyscall(_ tid: HostTid) throws(Errno) -> Int32 {
        var deferred: Int32 = 0
        let rc = moat_step_out_of_syscall(tid, &deferred)
        if rc < 0 { throw Errno(Int32(-rc)) }
        return deferred
    }

    /// Makes a tracee held at a stop outside a syscall run one syscall; its result, and
    /// a signal that arrived meanwhile (to deliver on resuming), if any.
    public func inject(_ tid: HostTid, syscall nr: Int, _ args: [Int]) throws(Errno) -> (result: Int, deferredSignal: Int32) {
        var result = 0
        var deferred: Int32 = 0
        let padded = Array((args + [0, 0, 0, 0, 0, 0]).prefix(6))
        let rc = moat_inject_syscall(tid, nr, padded, &result, &deferred)
        if rc < 0 { throw Errno(Int32(-rc)) }
        return (result, deferred)
    }

    public func stackPointer(_ tid: HostTid) throws(Errno) -> UInt64 {
        var value: UInt64 = 0
        let rc = moat_get_stack_pointer(tid, &value)
        if rc < 0 { throw Errno(Int32(-rc)) }
        return value
    }
}

// ptrace event numbers (sys/ptrace.h enums import as structs).
let PTRACE_EVENT_FORK_VALUE: Int32 = 1
let PTRACE_EVENT_VFORK_VALUE: Int32 = 2
let PTRACE_EVENT_CLONE_VALUE: Int32 = 3
let PTRACE_EVENT_EXEC_VALUE: Int32 = 4
let PTRACE_EVENT_SECCOMP_VALUE: Int32 = 7
let PTRACE_EVENT_STOP_VALUE: Int32 = 128
