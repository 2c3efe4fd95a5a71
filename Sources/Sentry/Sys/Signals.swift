import Glibc
import Platform

/// rt_sigtimedwait: run by the host, checked at its exit. Linux drops a
/// signal that is ignored and not blocked when it is sent, so a wait for it
/// times out; a ptraced thread has it queued instead (the tracer may want
/// to see it), and the wait would return it. The sentry makes such a wait
/// go on, for what is left of its timeout.
enum Signals {
    /// A wait in flight: when it began, its timeout (nil: none), and the
    /// scratch address a repeated call's remaining timeout is at.
    struct PendingWait {
        let started: Int64
        let timeout: timespec?
        let scratch: UInt64
    }

    /// rt_sigtimedwait implements Linux syscall rt_sigtimedwait(2).
    static func sigtimedwait(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let scratch = (a.stackPointer &- 128 &- 64) & ~15
        // A call the sentry repeated keeps its first start and timeout.
        if let pending = t.pendingSignalWait, a[2] == pending.scratch { return .runOnHostToExit }
        var timeout: timespec?
        if a[2] != 0 {
            // A bad pointer is the kernel's EFAULT to give: the call runs as it is.
            guard let given = try? TraceeMemory(t.hostTid).load(timespec.self, at: a[2]) else {
                t.pendingSignalWait = nil
                return .runOnHost
            }
            timeout = given
        }
        t.pendingSignalWait = PendingWait(started: Clocks.host(CLOCK_MONOTONIC), timeout: timeout, scratch: scratch)
        return .runOnHostToExit
    }

    /// At the exit: a dropped signal returned, or an EINTR that only
    /// dropped signals caused (they are still pending: the kernel discards
    /// them once the thread goes on), makes the call go on, or time out with
    /// EAGAIN when its time is up.
    static func finishWait(_ k: Kernel, _ t: Task, _ wait: PendingWait, result: Int64) {
        guard result > 0 || result == -Int64(EINTR), let masks = HostProc.signalMasks(t.hostTid) else { return }
        if result > 0 {
            guard result <= 64, masks.drops(Int32(result)) else { return }
        } else {
            let pending = masks.deliverable
            guard !pending.isEmpty, pending.allSatisfy(masks.drops) else { return }
        }
        guard let timeout = wait.timeout else {
            try? k.tracer.repeatCall(t.hostTid, index: 2, to: 0)
            t.pendingSignalWait = wait
            return
        }
        let total = Int64(timeout.tv_sec) * 1_000_000_000 + Int64(timeout.tv_nsec)
        let left = total - (Clocks.host(CLOCK_MONOTONIC) - wait.started)
        guard left > 0 else {
            k.tracer.setResult(t.hostTid, value: -Int(EAGAIN))
            return
        }
        let remaining = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        guard (try? TraceeMemory(t.hostTid).store(remaining, at: wait.scratch)) != nil,
            (try? k.tracer.repeatCall(t.hostTid, index: 2, to: wait.scratch)) != nil
        else { return }
        t.pendingSignalWait = wait
    }
}
