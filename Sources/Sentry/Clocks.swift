import Glibc

/// The sandbox's clocks. MONOTONIC and BOOTTIME start near zero when the
/// sandbox starts; REALTIME is the host's plus an offset (zero unless the
/// config fixes a start time). All values are nanoseconds.
public struct Clocks: Sendable {
    /// Per clock id 0...11: virtual = host - base.
    private var bases: [Int64]

    public struct Offsets: Sendable, Equatable {
        public var realtime: Int64 = 0  // added to the host's REALTIME
        public var realtimeStart: Int64?  // fixed REALTIME at sandbox start, overrides `realtime`
        public var monotonic: Int64 = 0  // linux.timeOffsets.monotonic
        public var boottime: Int64 = 0  // linux.timeOffsets.boottime
        public init() {}
    }

    public init(offsets: Offsets = Offsets()) {
        bases = [Int64](repeating: 0, count: 12)
        let realtimeOffset = offsets.realtimeStart.map { $0 - Clocks.host(CLOCK_REALTIME) } ?? offsets.realtime
        for id in Clocks.realtimeFamily { bases[Int(id)] = -realtimeOffset }
        for id: Int32 in [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE] {
            bases[Int(id)] = Clocks.host(id) - offsets.monotonic
        }
        for id: Int32 in [CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM] {
            bases[Int(id)] = Clocks.host(id) - offsets.boottime
        }
    }

    static let realtimeFamily: [Int32] = [CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM, CLOCK_TAI]
    static let virtualClocks: Set<Int32> = [0, 1, 4, 5, 6, 7, 8, 9, 11]

    public static func host(_ id: Int32) -> Int64 {
        var ts = timespec()
        clock_gettime(clockid_t(id), &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Whether the sentry serves this clock (CPU-time clocks are the host's).
    public static func isVirtual(_ id: Int32) -> Bool { virtualClocks.contains(id) }

    public func now(_ id: Int32) -> Int64 { Clocks.host(id) - bases[Int(id)] }

    /// What is subtracted from the host clock `id` (0...11) to give the sandbox's.
    public func base(_ id: Int32) -> Int64 { bases[Int(id)] }

    /// The host time at which virtual clock `id` will read `value`.
    public func hostTime(_ id: Int32, forVirtual value: Int64) -> Int64 { value + bases[Int(id)] }
}

/// struct timespec / timeval as the tracee lays them out.
struct Timespec: BitwiseCopyable {
    var seconds: Int64
    var nanoseconds: Int64
    init(nanoseconds total: Int64) {
        seconds = total / 1_000_000_000
        nanoseconds = total % 1_000_000_000
        if nanoseconds < 0 {
            seconds -= 1
            nanoseconds += 1_000_000_000
        }
    }
    var total: Int64 { seconds &* 1_000_000_000 &+ nanoseconds }
}

/// struct itimerspec: the reload interval, then the first expiry.
struct Itimerspec: BitwiseCopyable {
    var interval: Timespec
    var value: Timespec
}

struct Timeval: BitwiseCopyable {
    var seconds: Int64
    var microseconds: Int64
    init(nanoseconds total: Int64) {
        let ts = Timespec(nanoseconds: total)
        seconds = ts.seconds
        microseconds = ts.nanoseconds / 1000
    }
}
