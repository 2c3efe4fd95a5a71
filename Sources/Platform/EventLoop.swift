import CShims
import Glibc

/// Something the sentry must act on: a ptrace stop, or a call held by user notification.
public enum Event: Sendable {
    case stop(Stop)
    case notification(Notification, NotificationListener)
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
    /// One listener per filter: the init's, and one per `moat exec` process.
    public private(set) var listeners: [NotificationListener] = []
    /// Sockets a child will send its listener on.
    private var listenerSockets: [Int32] = []
    private let sigchld: Int32
    private var spinNext = false
    /// A SIGCHLD came (or a stop was just returned) since wait4 last found
    /// nothing: only then is wait4 worth a syscall. A notification alone
    /// changes no tracee's state, and skipping it saves one call per notification.
    private var mayHaveStops = true
    /// What poll waits on: sigchld, the watched fd, the sockets, the listeners.
    private var polled: [Int32] = []
    private var listenerFDs: [Int32] = []
    /// Listeners and sockets beyond this many are not taken (a process then has no listener).
    public static let maxListeners = Int(MOAT_MAX_POLLED) - 2

    /// Create it before spawning: it blocks SIGCHLD for this thread.
    public init(tracer: PtraceTracer) throws(Errno) {
        self.tracer = tracer
        let fd = moat_sigchld_fd()
        if fd < 0 { throw Errno(-fd) }
        sigchld = fd
        rebuildPolled()
    }

    /// The child will send its seccomp listener on `socket`.
    public func expectListener(on socket: Int32) {
        listenerSockets.append(socket)
        rebuildPolled()
    }

    /// Whether another listener can be taken.
    public var hasRoomForListener: Bool { listeners.count + listenerSockets.count < EventLoop.maxListeners }

    /// A further fd to wait on; `next()` returns `.watched` when it is readable.
    public var watchedFD: Int32? { didSet { rebuildPolled() } }

    private func rebuildPolled() {
        listenerFDs = listeners.map(\.fd)
        polled = [sigchld, watchedFD ?? -1] + listenerSockets + listenerFDs
    }

    /// Runs once, the first time the loop has waited `idleAfterMs` without an event.
    public var whenIdle: (() -> Void)?
    public var idleAfterMs: Int32 = 500
    /// Runs when the loop has waited `quietAfterMs` without an event, once
    /// each time `quietArmed` is set (then cleared).
    public var whenQuiet: (() -> Void)?
    public var quietArmed = false
    public var quietAfterMs: Int32 = 50

    deinit {
        close(sigchld)
        listenerSockets.forEach { close($0) }
        listeners.forEach { close($0.fd) }
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
                if now - spinStart < tracer.spinNanoseconds {
                    if let event = readyNotification(timeout: 0) { spinNext = false; return event }
                    continue
                }
                spinNext = false
            }
            let quiet = quietArmed && whenQuiet != nil
            let timeout: Int32 = quiet ? (whenIdle == nil ? quietAfterMs : min(quietAfterMs, idleAfterMs))
                : (whenIdle == nil ? -1 : idleAfterMs)
            let ready = polled.withUnsafeBufferPointer {
                moat_poll_readable($0.baseAddress, Int32($0.count), timeout)
            }
            if ready == 0 && quiet {
                quietArmed = false
                whenQuiet?()
                continue
            }
            if ready == 0, let idle = whenIdle {
                whenIdle = nil
                idle()
                continue
            }
            if ready & 1 != 0 {
                moat_drain_fd(sigchld)
                mayHaveStops = true
            }
            if ready & ~3 != 0, let event = serviceListeners(ready) { return event }
            if ready & 2 != 0 { return .watched }
        }
    }

    /// A waiting notification from any listener, if one is readable within `timeout` ms.
    private func readyNotification(timeout: Int32) -> Event? {
        guard !listeners.isEmpty else { return nil }
        let ready = listenerFDs.withUnsafeBufferPointer { moat_poll_readable($0.baseAddress, Int32($0.count), timeout) }
        for (index, listener) in listeners.enumerated() where ready & (1 << index) != 0 {
            if let n = listener.receive() { return .notification(n, listener) }
        }
        return nil
    }

    /// Takes listeners that arrived, and the first waiting notification;
    /// drops listeners no task uses any more (their hang-up would wake the loop forever).
    private func serviceListeners(_ ready: Int32) -> Event? {
        let sockets = listenerSockets.count
        var arrived: [Int32] = []
        for (index, socket) in listenerSockets.enumerated() where ready & (1 << (index + 2)) != 0 {
            arrived.append(socket)
        }
        var event: Event?
        var gone: [Int32] = []
        for (index, listener) in listeners.enumerated() where ready & (1 << (index + 2 + sockets)) != 0 {
            if event == nil, let n = listener.receive() {
                event = .notification(n, listener)
            } else if moat_fd_hung_up(listener.fd) != 0 {
                gone.append(listener.fd)
            }
        }
        for socket in arrived { acceptListener(socket) }
        if !gone.isEmpty {
            gone.forEach { close($0) }
            listeners.removeAll { gone.contains($0.fd) }
        }
        if !arrived.isEmpty || !gone.isEmpty { rebuildPolled() }
        return event
    }

    private func acceptListener(_ socket: Int32) {
        let fd = moat_receive_listener(socket)
        close(socket)
        listenerSockets.removeAll { $0 == socket }
        guard fd >= 0 else { return }  // the child died before its filter: its exit tells why
        _ = moat_listener_sync_wake_up(fd)
        listeners.append(NotificationListener(fd: fd))
    }

    static func monotonic() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
