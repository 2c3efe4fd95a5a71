import Platform

/// Micro-benchmarks of the sentry's per-call work, without the trap around
/// it: what `moat bench` reports as the sentry's own share of a served call.
public enum HotPaths {
    /// (name, nanoseconds per operation): the median of 5 batches.
    public static func measure() -> [(String, Double)] {
        let pids = PidTable()
        for i in Int32(1)...1000 { pids.add(hostTid: 10_000 + i, vtid: i, hostTgid: 10_000 + i, vpid: i) }
        let table = SyscallTable.shared
        let clocks = Clocks()
        var sink = 0
        let results: [(String, Double)] = [
            (
                "pid translation (host tid to sandbox pid, 1000 tasks)",
                time(1_000_000) { i in
                    sink &+= Int(pids.task(host: 10_001 + HostTid(i % 1000))?.group.vpid ?? 0)
                }
            ),
            (
                "dispatch (syscall number to handler)",
                time(1_000_000) { i in
                    sink &+= table.handler(Int32(i % 460)) == nil ? 0 : 1
                }
            ),
            (
                "virtual clock read (CLOCK_MONOTONIC)",
                time(1_000_000) { _ in
                    sink &+= Int(truncatingIfNeeded: clocks.now(1))
                }
            ),
            (
                "refused-call key (observed runs)",
                time(1_000_000) { i in
                    sink &+= Int(truncatingIfNeeded: Observer.key(Int32(i % 400), SyscallArgs(number: 16)))
                }
            )
        ]
        if sink == 42 { print("") }  // keep the work
        return results
    }

    static func time(_ count: Int, _ body: (Int) -> Void) -> Double {
        var batches: [Double] = []
        for _ in 0..<5 {
            let start = Clocks.host(1)
            for i in 0..<count { body(i) }
            batches.append(Double(Clocks.host(1) - start) / Double(count))
        }
        return batches.sorted()[2]
    }
}
