import CShims
import Glibc
import Synchronization

/// The threads that answer user notifications, so that a call which waits
/// on another sandbox process (a FIFO's open) parks one thread and never
/// the sandbox.
///
/// Leader and followers: one thread at a time, the leader, holds
/// `leadership` and receives a call. A call that may wait on another
/// process is served after leadership passes to a follower (one is started
/// when none waits), so it parks one thread; the others are served by the
/// leader itself, which costs no hand-over. Threads that found no work for
/// a while retire.
///
/// A thread serving a call whose caller stopped waiting (a signal, or
/// killed) is interrupted: the leader checks such calls with
/// SECCOMP_IOCTL_NOTIF_ID_VALID every `sweepMs` and signals their threads
/// (see moat_install_interrupt), whose blocked host call then fails.
public final class ServingPool: @unchecked Sendable {
    public typealias Serve = @Sendable (Notification, NotificationListener) -> Void

    private let serve: Serve
    /// Whether a call is served after handing leadership on: one that may
    /// wait on another process (a FIFO's open, a send). The rest are served
    /// by the leader itself: on this 2-vCPU VM handing a stat over (waking
    /// another thread on the other CPU) cost more than serving two callers
    /// at once gained (scripts/bench-concurrency: stat at N = 2 went from
    /// 145k to 111k calls/s).
    private let handsOver: @Sendable (Notification) -> Bool
    /// Run first on every new thread (its own fs, namespaces).
    private let prepareThread: @Sendable () -> Void
    /// Run by a thread before it starts another, which inherits its
    /// credentials: back to the supervisor's own.
    private let beforeStartingThread: @Sendable () -> Void
    public let maxThreads: Int
    private let minThreads = 2
    private let retireAfterMs = 20_000
    private let sweepMs: Int32 = 100

    private let leadership = Lock()
    /// Guards everything below, except what only the leader touches.
    private let state = Lock()
    private var threads = 0
    private var waitingToLead = 0
    private var stopping = false
    private var arrivingSockets: [Int32] = []
    private var acceptedListeners = 0
    private var busy: [Int: (listener: Int32, id: UInt64, thread: pthread_t, since: Int64)] = [:]
    private var nextBusyToken = 0

    // The leader's own.
    private var listeners: [NotificationListener] = []
    private var sockets: [Int32] = []
    private var lastSweep: Int64 = 0
    /// Raised (with the interrupt signal to the leader, if it waits in a
    /// receive) when the leader must look at its state: a listener is
    /// coming, the pool stops, a sweep or the quiet timer is due.
    private let attention = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// The leader waits in a receive (not in poll).
    private var leaderReceiving: pthread_t?

    private let wake: Int32
    /// Nanoseconds (monotonic) of the last call received.
    private let lastCall = Atomic<Int64>(0)
    private let quietArmed = Atomic<Bool>(false)
    private let sweepSoon = Atomic<Bool>(false)
    /// Runs on the leader once no call came for `quietAfterMs` after `armQuiet`.
    public var whenQuiet: (@Sendable () -> Void)?
    public var quietAfterMs: Int32 = 50

    /// Listeners and sockets beyond this many are not taken (a process then has no listener).
    public static let maxListeners = Int(MOAT_MAX_POLLED) - 1

    public init(
        maxThreads: Int = 256, prepareThread: @escaping @Sendable () -> Void,
        beforeStartingThread: @escaping @Sendable () -> Void,
        handsOver: @escaping @Sendable (Notification) -> Bool, serve: @escaping Serve
    ) throws(Errno) {
        let fd = moat_eventfd()
        if fd < 0 { throw Errno(-fd) }
        wake = fd
        attention.initialize(to: 0)
        self.maxThreads = maxThreads
        self.prepareThread = prepareThread
        self.beforeStartingThread = beforeStartingThread
        self.handsOver = handsOver
        self.serve = serve
        moat_install_interrupt()
    }

    /// Starts the first thread.
    public func start() throws(Errno) {
        lastCall.store(EventLoop.monotonic(), ordering: .relaxed)
        guard addThread() else { throw Errno(EAGAIN) }
    }

    /// The child will send its seccomp listener on `socket`.
    public func expectListener(on socket: Int32) {
        state.withLock { arrivingSockets.append(socket) }
        kick()
    }

    /// Makes the leader look at its state now (see `attention`).
    private func kick() {
        moat_eventfd_signal(wake)
        state.withLock {
            moat_raise_attention(attention)
            if let leader = leaderReceiving { _ = moat_interrupt_thread(leader) }
        }
    }

    /// Whether another listener can be taken.
    public var hasRoomForListener: Bool {
        state.withLock { acceptedListeners + arrivingSockets.count < ServingPool.maxListeners }
    }

    /// Threads end once they are idle; calls still in flight are answered.
    public func stop() {
        state.withLock { stopping = true }
        kick()
    }

    /// The quiet timer starts (the leader then waits in poll, with a timeout).
    public func armQuiet() {
        if !quietArmed.exchange(true, ordering: .relaxed) { kick() }
    }

    /// A caller was signalled or ended (the tracing thread saw it): threads
    /// serving calls nobody waits for any more are interrupted now, not at the next sweep.
    public func callerMayHaveStoppedWaiting() {
        guard state.withLock({ !busy.isEmpty }) else { return }
        sweepSoon.store(true, ordering: .relaxed)
        kick()
    }

    /// Milliseconds since the last call came.
    public var idleMs: Int64 { (EventLoop.monotonic() - lastCall.load(ordering: .relaxed)) / 1_000_000 }

    private func addThread() -> Bool {
        beforeStartingThread()
        state.withLock { threads += 1 }
        let started = startThread { [self] in run() }
        if !started { state.withLock { threads -= 1 } }
        return started
    }

    private func run() {
        moat_accept_interrupt()
        prepareThread()
        while true {
            state.withLock { waitingToLead += 1 }
            let leading = leadership.lock(waitingAtMost: retireAfterMs)
            let retire = state.withLock { () -> Bool in
                waitingToLead -= 1
                guard !leading, threads > minThreads || stopping else { return false }
                threads -= 1
                return true
            }
            if retire { return }
            guard leading else { continue }
            while true {
                guard let (call, listener) = lead() else {
                    state.withLock { threads -= 1 }
                    leadership.unlock()
                    return
                }
                guard handsOver(call) else {
                    serve(call, listener)
                    continue
                }
                let token = handOver(call, listener)
                leadership.unlock()
                serve(call, listener)
                state.withLock { _ = busy.removeValue(forKey: token) }
                break
            }
        }
    }

    /// Records the call as in flight and makes sure some thread will lead next.
    private func handOver(_ call: Notification, _ listener: NotificationListener) -> Int {
        let (token, spawn) = state.withLock { () -> (Int, Bool) in
            nextBusyToken += 1
            busy[nextBusyToken] = (listener.fd, call.id, pthread_self(), EventLoop.monotonic())
            return (nextBusyToken, waitingToLead == 0 && threads < maxThreads && !stopping)
        }
        if spawn { _ = addThread() }
        return token
    }

    /// As the leader: waits for the next call; nil once stopping.
    private func lead() -> (Notification, NotificationListener)? {
        guard let call = waitForCall() else { return nil }
        lastCall.store(EventLoop.monotonic(), ordering: .relaxed)
        return call
    }

    private func waitForCall() -> (Notification, NotificationListener)? {
        while true {
            moat_clear_attention(attention)
            let (arrived, stop, anyBusy) = state.withLock { () -> ([Int32], Bool, Bool) in
                defer { arrivingSockets = [] }
                return (arrivingSockets, stopping, !busy.isEmpty)
            }
            if stop { return nil }
            sockets += arrived
            if sweepSoon.exchange(false, ordering: .relaxed) {
                sweep(olderThan: 0)
            } else if anyBusy {
                sweep(olderThan: Int64(sweepMs) * 1_000_000)
            }
            let quiet = quietArmed.load(ordering: .relaxed) && whenQuiet != nil
            // The usual case, one listener and nothing to time: wait in the
            // receive itself. It saves a poll per call, and poll walks every
            // pending call (a storm of thousands of threads made it quadratic).
            if sockets.isEmpty && listeners.count == 1 && !anyBusy && !quiet {
                let listener = listeners[0]
                state.withLock { leaderReceiving = pthread_self() }
                let received = listener.receive(unless: attention)
                state.withLock { leaderReceiving = nil }
                switch received {
                case .success(let call): return (call, listener)
                case .failure(let error) where error.rawValue == EINTR: continue
                case .failure:
                    // A call whose caller left, or no task uses the filter any more.
                    if moat_fd_hung_up(listener.fd) != 0 { _ = service(2) }
                    continue
                }
            }
            let polled = [wake] + sockets + listeners.map(\.fd)
            let timeout: Int32 = anyBusy ? sweepMs : (quiet ? quietAfterMs : -1)
            let ready = moat_poll_readable(polled, Int32(polled.count), timeout)
            if ready == 0 {
                if quiet, quietArmed.exchange(false, ordering: .relaxed) { whenQuiet?() }
                continue
            }
            if ready & 1 != 0 { moat_drain_fd(wake) }
            if let call = service(ready) { return call }
        }
    }

    /// Takes listeners that arrived and the first waiting call; drops
    /// listeners no task uses any more (their hang-up would wake the poll forever).
    private func service(_ ready: Int32) -> (Notification, NotificationListener)? {
        let socketCount = sockets.count
        var arrived: [Int32] = []
        for (index, socket) in sockets.enumerated() where ready & (1 << (index + 1)) != 0 { arrived.append(socket) }
        var call: (Notification, NotificationListener)?
        var gone: [Int32] = []
        for (index, listener) in listeners.enumerated() where ready & (1 << (index + 1 + socketCount)) != 0 {
            if call == nil, let n = listener.receive() {
                call = (n, listener)
            } else if moat_fd_hung_up(listener.fd) != 0 {
                gone.append(listener.fd)
            }
        }
        for socket in arrived {
            let fd = moat_receive_listener(socket)
            close(socket)
            sockets.removeAll { $0 == socket }
            // A child that died before its filter was loaded: its exit tells why.
            guard fd >= 0 else { continue }
            _ = moat_listener_sync_wake_up(fd)
            listeners.append(NotificationListener(fd: fd))
        }
        if !gone.isEmpty {
            for fd in gone { close(fd) }
            listeners.removeAll { gone.contains($0.fd) }
        }
        let count = listeners.count
        state.withLock { acceptedListeners = count }
        return call
    }

    /// Interrupts threads whose caller no longer waits for them.
    private func sweep(olderThan age: Int64) {
        let now = EventLoop.monotonic()
        guard now - lastSweep >= age else { return }
        lastSweep = now
        state.withLock {
            for (_, entry) in busy where now - entry.since >= age {
                if moat_notification_id_valid(entry.listener, entry.id) == 0 {
                    _ = moat_interrupt_thread(entry.thread)
                }
            }
        }
    }
}
