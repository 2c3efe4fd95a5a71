import Glibc

/// MOAT_TIMING=1: one stderr line per phase of a run, with the milliseconds
/// since the process started (from /proc/self/stat's start time), to see
/// where boot time goes without a profiler.
public enum Timing {
    nonisolated(unsafe) static var enabled: Bool? = nil
    nonisolated(unsafe) static var start: Int64 = 0

    public static func mark(_ phase: StaticString) {
        if enabled == nil {
            enabled = getenv("MOAT_TIMING") != nil
            if enabled == true { start = processStart() }
        }
        guard enabled == true else { return }
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        let now = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        let micros = (now - start) / 1000
        let line = "moat timing: \(micros / 1000).\(String(micros % 1000 + 1000).dropFirst()) ms \(phase)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    /// When this process began, on CLOCK_BOOTTIME (clock ticks of /proc/self/stat field 22).
    static func processStart() -> Int64 {
        guard let bytes = HostFile.read("/proc/self/stat"), let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return 0 }
        let fields = bytes[(close + 2)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 19, let ticks = Int64(String(decoding: fields[19], as: UTF8.self)) else { return 0 }
        return ticks * (1_000_000_000 / Int64(sysconf(Int32(_SC_CLK_TCK))))
    }
}
