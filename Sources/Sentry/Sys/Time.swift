import Glibc
import Platform

/// Clocks served from the sentry's `Clocks`.
enum Time {
    static let timerAbstime: UInt64 = 1

    /// clock_gettime implements Linux syscall clock_gettime(2).
    static func clockGettime(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let id = a.int32(0)
        // The host vDSO's own fallback, called by the sentry vDSO, which
        // shifts what it gets (for the clocks it serves; others it passes on).
        if SentryVDSO.servedClocks.contains(id), t.group.hostVDSO?.contains(a.instructionPointer) == true {
            return .runOnHost
        }
        // Negative ids and the CPU-time clocks count the caller's own CPU time.
        guard Clocks.isVirtual(id) else { return .runOnHost }
        try TraceeMemory(t.hostTid).store(Timespec(nanoseconds: k.clocks.now(id)), at: a[1])
        return .value(0)
    }

    /// gettimeofday implements Linux syscall gettimeofday(2).
    static func gettimeofday(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let memory = TraceeMemory(t.hostTid)
        try faultingLikeAVsyscall(k, t, a) { () throws(Errno) in
            if a[0] != 0 { try memory.store(Timeval(nanoseconds: k.clocks.now(CLOCK_REALTIME)), at: a[0]) }
            if a[1] != 0 { try memory.store((Int32(0), Int32(0)), at: a[1]) }  // struct timezone: UTC
        }
        return .value(0)
    }

    /// time implements Linux syscall time(2).
    static func time(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let seconds = Timespec(nanoseconds: k.clocks.now(CLOCK_REALTIME)).seconds
        try faultingLikeAVsyscall(k, t, a) { () throws(Errno) in
            if a[0] != 0 { try TraceeMemory(t.hostTid).store(seconds, at: a[0]) }
        }
        return .value(Int(seconds))
    }

    /// The legacy vsyscall page's time calls reach the sentry as these
    /// syscalls, from its address. On Linux a bad pointer given to a real
    /// vsyscall faults: the caller gets SIGSEGV, not EFAULT.
    static func faultingLikeAVsyscall(_ k: Kernel, _ t: Task, _ a: SyscallArgs, _ body: () throws(Errno) -> Void) throws(Errno) {
        do { try body() } catch {
            if error == .fault, (0xffff_ffff_ff60_0000..<0xffff_ffff_ff60_1000).contains(a.instructionPointer) {
                k.deliverFault(t, signal: SIGSEGV)
            }
            throw error
        }
    }

    /// clock_nanosleep implements Linux syscall clock_nanosleep(2). An absolute
    /// deadline on a sandbox clock is converted to the host clock and handed to
    /// the host in scratch space below the caller's stack red zone.
    static func clockNanosleep(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let id = a.int32(0)
        guard a[1] & timerAbstime != 0 else { return .runOnHost }
        return try shiftDeadlineArgument(k, t, a, index: 2, clock: id)
    }

    /// The absolute timespec at argument `index`, on sandbox clock `clock`,
    /// converted to the host's clock (see `rewriteArgument`).
    static func shiftDeadlineArgument(_ k: Kernel, _ t: Task, _ a: SyscallArgs, index: Int, clock: Int32) throws(Errno) -> SyscallOutcome {
        guard a[index] != 0, Clocks.isVirtual(clock) else { return .runOnHost }
        return try rewriteArgument(k, t, a, index: index) { (deadline: Timespec) throws(Errno) -> Timespec in
            guard (0..<1_000_000_000).contains(deadline.nanoseconds) else { throw .invalid }
            return Timespec(nanoseconds: k.clocks.hostTime(clock, forVirtual: deadline.total))
        }
    }

    /// Reads the struct at argument `index` once, hands the host `convert`'s
    /// result in scratch space below the caller's red zone (the kernel copies
    /// it in at entry) and points the argument there. A call the kernel
    /// restarts after a signal (ERESTARTSYS, ERESTARTNOHAND) comes back with
    /// the argument pointing at the scratch: it is not converted twice, and
    /// what was stored there is put back (a signal frame may have been built
    /// over it).
    static func rewriteArgument<T: BitwiseCopyable>(
        _ k: Kernel, _ t: Task, _ a: SyscallArgs, index: Int,
        _ convert: (T) throws(Errno) -> T
    ) throws(Errno) -> SyscallOutcome {
        let memory = TraceeMemory(t.hostTid)
        let scratch = (a.stackPointer &- 128 &- 64) & ~15
        if a[index] == scratch, let stored = k.shiftedDeadlines[t.hostTid] {
            try memory.write(stored, at: scratch)
            return .runOnHost
        }
        let converted = try convert(try memory.load(T.self, at: a[index]))
        try memory.store(converted, at: scratch)
        try k.tracer.setArgument(t.hostTid, index: index, to: scratch)
        k.shiftedDeadlines[t.hostTid] = withUnsafeBytes(of: converted) { Array($0) }
        return .runOnHost
    }

    /// timerfd_settime implements Linux syscall timerfd_settime(2): an
    /// absolute deadline (TFD_TIMER_ABSTIME) on a sandbox clock is moved to
    /// the host clock the timer runs on; relative ones run as they are.
    static func timerfdSettime(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        guard a[1] & timerAbstime != 0, a[2] != 0,
            let clock = HostProc.timerfdClock(t.hostTid, fd: a.int32(0))
        else { return .runOnHost }
        return try shiftDeadline(k, t, a, clock: clock)
    }

    /// timer_settime implements Linux syscall timer_settime(2), as timerfd_settime.
    static func timerSettime(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        guard a[1] & timerAbstime != 0, a[2] != 0,
            let clock = HostProc.posixTimerClock(t.group.hostTgid, id: a.int32(0))
        else { return .runOnHost }
        return try shiftDeadline(k, t, a, clock: clock)
    }

    /// The itimerspec at argument 2, its deadline converted to the host's clock.
    private static func shiftDeadline(_ k: Kernel, _ t: Task, _ a: SyscallArgs, clock: Int32) throws(Errno) -> SyscallOutcome {
        guard Clocks.isVirtual(clock) else { return .runOnHost }
        return try rewriteArgument(k, t, a, index: 2) { (spec: Itimerspec) throws(Errno) -> Itimerspec in
            guard (0..<1_000_000_000).contains(spec.value.nanoseconds) else { throw .invalid }
            var host = spec
            // A zero deadline disarms the timer, absolute or not.
            if spec.value.total != 0 { host.value = Timespec(nanoseconds: k.clocks.hostTime(clock, forVirtual: spec.value.total)) }
            return host
        }
    }

    /// times implements Linux syscall times(2): CPU times of the caller, and
    /// clock ticks since the sandbox started.
    static func times(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        if a[0] != 0 {
            let cpu = HostProc.cpuTimes(t.group.hostTgid) ?? [0, 0, 0, 0]
            try TraceeMemory(t.hostTid).store((cpu[0], cpu[1], cpu[2], cpu[3]), at: a[0])
        }
        let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return .value(Int(k.clocks.now(CLOCK_MONOTONIC) / (1_000_000_000 / ticksPerSecond)))
    }

    /// sysinfo implements Linux syscall sysinfo(2): the sandbox's uptime and
    /// process count over the host's memory figures.
    static func sysinfo(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        var info = try ThreadCalls.sysinfo()
        info.uptime = Int(k.clocks.now(CLOCK_BOOTTIME) / 1_000_000_000)
        info.procs = UInt16(clamping: k.pids.processCount)
        // With a memory limit, memory is the sandbox's, as /proc/meminfo shows it.
        if let limit = k.spec.memoryLimit {
            let unit = UInt64(max(info.mem_unit, 1))
            let used = UInt64(max(0, min(k.cgroup?.memoryUsage ?? 0, limit)))
            info.totalram = UInt(UInt64(limit) / unit)
            info.freeram = UInt((UInt64(limit) - used) / unit)
            info.sharedram = 0
            info.bufferram = 0
            info.totalswap = 0
            info.freeswap = 0
        }
        try TraceeMemory(t.hostTid).store(info, at: a[0])
        return .value(0)
    }
}
