import CShims
import Glibc

/// Something the sentry must act on: a ptrace stop, or a call held by user notification.
public enum Event: Sendable {
    case stop(Stop)
    case notification(Notification)
    /// `watchedFD` is readable (the supervisor's control socket).
    case watched
}

/// Waits for ptrace events and user notifications together, on the tracing
/// thread: a SIGCHLD signalfd says a tracee changed state, the listener fd
/// says a call is waiting. After a ptrace stop it polls briefly (the next one
/// usually follows within microseconds); after a notification it sleeps at
/// once in poll, so that the synchronous wake-up can hand it the CPU.
public final class EventLoop {
    public let tracer: PtraceTracer
    public private(set) var listener: NotificationListener?
    private var listenerSocket: Int32?
    private let sigchld: Int32
    private var spinNext = false

    /// Create it before spawning: it blocks SIGCHLD for this thread.
    public init(tracer: PtraceTracer) throws(Errno) {
        self.tracer = tracer
        let fd = moat_sigchld_fd()
        if fd < 0 { throw Errno(-fd) }
        sigchld = fd
    }

    /// The child will send its seccomp listener on `socket`.
    public func expectListener(on socket: Int32) { listenerSocket = socket }

    /// A further fd to wait on; `next()` returns `.watched` when it is readable.
    public var watchedFD: Int32?

    /// Runs once, the first time the loop has waited `idleAfterMs` without an event.
    public var whenIdle: (() -> Void)?
    public var idleAfterMs: Int32 = 500

    deinit {
        close(sigchld)
        if let listenerSocket { close(listenerSocket) }
        if let listener { close(listener.fd) }
    }

    /// The next event; nil once no tracee is left.
    public func next() -> Event? {
        var spinStart: Int64 = 0
        while true {
            var status: Int32 = 0
            let tid = moat_wait_nohang(&status)
            if tid < 0 { return nil }
            if tid > 0 {
                guard let stop = tracer.decode(tid, status) else { continue }
                spinNext = true
                return .stop(stop)
            }
            if spinNext {
                let now = EventLoop.monotonic()
                if spinStart == 0 { spinStart = now }
                if now - spinStart < tracer.spinNanoseconds {
                    if let listener, EventLoop.readable(listener.fd, -1, -1, timeout: 0) != 0, let n = listener.receive() {
                        spinNext = false
                        return .notification(n)
                    }
                    continue
                }
                spinNext = false
            }
            let waitOn = listener?.fd ?? listenerSocket
            let ready = EventLoop.readable(sigchld, waitOn ?? -1, watchedFD ?? -1, timeout: whenIdle == nil ? -1 : idleAfterMs)
            if ready == 0, let idle = whenIdle {
                whenIdle = nil
                idle()
                continue
            }
            if ready & 1 != 0 { moat_drain_fd(sigchld) }
            if ready & 2 != 0 {
                if let socket = listenerSocket {
                    acceptListener(socket)
                } else if let listener {
                    if let n = listener.receive() { return .notification(n) }
                    // No task uses the filter any more: stop polling it, or
                    // its hang-up would wake the loop forever.
                    if moat_fd_hung_up(listener.fd) != 0 {
                        close(listener.fd)
                        self.listener = nil
                    }
                }
            }
            if ready & 4 != 0 { return .watched }
        }
    }

    private func acceptListener(_ socket: Int32) {
        let fd = moat_receive_listener(socket)
        close(socket)
        listenerSocket = nil
        guard fd >= 0 else { return }  // the child died before its filter: its exit tells why
        _ = moat_listener_sync_wake_up(fd)
        listener = NotificationListener(fd: fd)
    }

    /// poll(2) on up to three fds (negative ones are skipped): bit i for the
    /// i-th. A tuple on the stack, so a wait allocates nothing.
    static func readable(_ a: Int32, _ b: Int32, _ c: Int32, timeout: Int32) -> Int32 {
        var fds = (a, b, c)
        return withUnsafeBytes(of: &fds) {
            moat_poll_readable($0.baseAddress!.assumingMemoryBound(to: Int32.self), 3, timeout)
        }
    }

    static func monotonic() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
