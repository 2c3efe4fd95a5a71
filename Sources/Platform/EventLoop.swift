import CShims
import Glibc

/// Something the tracing thread must act on: a ptrace stop, or the watched
/// fd (the supervisor's control socket) is readable. Calls held by user
/// notification are the serving threads' (ServingPool).
public enum Event: Sendable {
    case stop(Stop)
    case watched
}

/// Waits for ptrace events on the tracing thread: a SIGCHLD signalfd says a
/// tracee changed state. After a stop it polls briefly (the next one
/// usually follows within microseconds) before it sleeps.
public final class EventLoop {
    public let tracer: PtraceTracer
    private let sigchld: Int32
    private var spinNext = false
    /// A SIGCHLD came (or a stop was just returned) since wait4 last found
    /// nothing: only then is wait4 worth a syscall.
    private var mayHaveStops = true

    /// Create it before spawning: it blocks SIGCHLD for this thread (and the
    /// threads it starts after).
    public init(tracer: PtraceTracer) throws(Errno) {
        self.tracer = tracer
        let fd = moat_sigchld_fd()
        if fd < 0 { throw Errno(-fd) }
        sigchld = fd
    }

    /// A further fd to wait on; `next()` returns `.watched` when it is readable.
    public var watchedFD: Int32?

    /// Runs once, the first time the loop has waited `idleAfterMs` without an event.
    public var whenIdle: (() -> Void)?
    public var idleAfterMs: Int32 = 500

    deinit {
        close(sigchld)
    }

    /// The next event; nil once no tracee is left.
    public func next() -> Event? {
        var spinStart: Int64 = 0
        while true {
            if mayHaveStops || spinNext {
                var status: Int32 = 0
                let tid = moat_wait_nohang(&status)
                if tid < 0 { return nil }
                if tid > 0 {
                    guard let stop = tracer.decode(tid, status) else { continue }
                    spinNext = true
                    return .stop(stop)
                }
                mayHaveStops = false
            }
            if spinNext {
                let now = EventLoop.monotonic()
                if spinStart == 0 { spinStart = now }
                if now - spinStart < tracer.spinNanoseconds { continue }
                spinNext = false
            }
            let polled = [sigchld, watchedFD ?? -1]
            let ready = moat_poll_readable(polled, Int32(polled.count), whenIdle == nil ? -1 : idleAfterMs)
            if ready == 0, let idle = whenIdle {
                whenIdle = nil
                idle()
                continue
            }
            if ready & 1 != 0 {
                moat_drain_fd(sigchld)
                mayHaveStops = true
            }
            if ready & 2 != 0 { return .watched }
        }
    }

    static func monotonic() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
