import Glibc
import Platform

/// Waits with absolute deadlines: the workload computes them from the
/// sandbox's clocks, the host's kernel waits on its own, so the deadline is
/// shifted (as for clock_nanosleep). Waits without one run on the host
/// untouched; the filter traps only the futex ops that take an absolute time.
enum Futex {
    static let lockPI: UInt64 = 6, waitBitset: UInt64 = 9, waitRequeuePI: UInt64 = 11, lockPI2: UInt64 = 13
    static let clockRealtimeFlag: UInt64 = 256
    static let absoluteOps: [UInt64] = [lockPI, waitBitset, waitRequeuePI, lockPI2]
    /// Every other op Linux has (FUTEX_WAIT's timeout is relative).
    static let otherOps: [UInt64] = [0, 1, 2, 3, 4, 5, 7, 8, 10, 12]

    /// futex implements Linux syscall futex(2) for the ops with an absolute timeout.
    static func futex(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let op = a[1] & 0x7f
        guard absoluteOps.contains(op) else { return .runOnHost }
        // LOCK_PI always waits on CLOCK_REALTIME; the others on MONOTONIC unless told.
        let clock = op == lockPI || a[1] & clockRealtimeFlag != 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC
        return try Time.shiftDeadlineArgument(k, t, a, index: 3, clock: clock)
    }

    /// futex_waitv implements Linux syscall futex_waitv(2): its timeout (argument 3)
    /// is absolute on the clock in argument 4.
    static func futexWaitv(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try Time.shiftDeadlineArgument(k, t, a, index: 3, clock: a.int32(4))
    }

    /// mq_timedsend and mq_timedreceive: an absolute CLOCK_REALTIME timeout in argument 4.
    static func mqTimed(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try Time.shiftDeadlineArgument(k, t, a, index: 4, clock: CLOCK_REALTIME)
    }
}
