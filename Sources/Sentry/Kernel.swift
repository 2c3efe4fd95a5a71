import Glibc
import Platform

/// What the sentry needs to run one sandbox.
public struct SandboxSpec: Sendable {
    public var child: ChildSpec
    public var hostname: String
    public var domainname = "(none)"
    public var clockOffsets = Clocks.Offsets()
    /// Where the built seccomp program may be cached between runs (the state root).
    public var filterCacheDirectory: String?
    /// linux.resources pids and memory limits, enforced by cgroups at `cgroupPath`.
    public var pidsLimit: Int64?
    public var memoryLimit: Int64?
    /// Memory plus swap (-1: unlimited), the soft limit, and no OOM killing (v1).
    public var memorySwap: Int64?
    public var memoryReservation: Int64?
    public var disableOOMKiller = false
    public var blockIOWeight: UInt16?
    /// linux.resources.devices, in order: which device nodes may be opened (with `DeviceRule.defaults`).
    public var deviceRules: [DeviceRule] = []
    /// linux.resources.cpu.cpus/mems.
    public var cpus: String?
    public var mems: String?
    /// linux.resources.cpu: shares, quota and period (µs).
    public var cpu: (shares: UInt64?, quota: Int64?, period: UInt64?)?
    public var cgroupPath = "/moat/sandbox-\(getpid())"
    /// linux.cgroupsPath was given (engines always give one): the cgroup is
    /// made with every controller, limits or not, and the supervisor joins
    /// it with the workload, so that what engines read from the pid they
    /// hold (docker stats, podman stats) is the container's.
    public var containerCgroup = false
    /// Serve the hot emulated calls by seccomp user notification (when the
    /// kernel has synchronous wake-ups) instead of ptrace stops.
    public var useNotifications =
        NotificationListener.syncWakeUpAvailable
        && getenv("MOAT_PLATFORM").map { String(cString: $0) } != "ptrace"

    /// What the run records beyond serving calls (--strace, --syscall-report, --count-all).
    public var observation = Observation()
    /// What the sandbox trades for speed (`--metadata=direct`); nothing by default.
    public var fileProfile = FileProfile()
    /// Serve clock_gettime through the sentry vDSO when the host allows it (MOAT_VDSO=off: always trap).
    public var fastClocks = getenv("MOAT_VDSO").map { String(cString: $0) } != "off"

    public init(child: ChildSpec, hostname: String) {
        self.child = child
        self.hostname = hostname
    }
}

extension SandboxSpec {
    /// The direct-files profile (see `FileProfile.directFiles`), with what
    /// the mount namespace must then hold by itself: nodev on the root and
    /// bound directories (the sentry's device rules), /proc/sys and
    /// sysrq-trigger read-only (the sentry's EROFS on the host's keys).
    public mutating func useDirectFiles() {
        fileProfile = FileProfile(directFiles: true)
        child.nodevFiles = true
        // Every procfs the config mounts, not only /proc.
        let procs = Set(procMountTargets + ["/proc"])
        let guarded = procs.sorted().flatMap { [$0 + "/sys", $0 + "/sysrq-trigger"] }
        child.readonlyPaths += guarded.filter { !child.readonlyPaths.contains($0) }
    }

    /// Where the config mounts procfs (each mount its own superblock), or /proc without one.
    var procMountTargets: [String] {
        let targets = child.mounts.filter { $0.fstype == "proc" }.map(\.target)
        return targets.isEmpty ? ["/proc"] : targets
    }
}

/// How the workload's init ended.
public enum ExitStatus: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)
    /// The child failed before execve (bad cwd, missing executable ...).
    case failedBeforeExec(ChildFailure)

    /// The exit code a shell would report: 128+N for signal N.
    public var code: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        case .failedBeforeExec(let failure):
            failure.stage == .exec ? (failure.errno == .noSuchFile ? 127 : 126) : 125
        }
    }
}

/// The sentry: owns the process table, the clocks and the names, and serves
/// every trapped syscall.
///
/// Threads: the tracing thread (the one that calls `run`, the same OS
/// thread for the whole run: ptrace belongs to it) handles every ptrace
/// stop and serves the calls that come as stops; the serving threads of a
/// `ServingPool` answer user notifications, several at once. Shared state is
/// the pid table and task fields (`fieldLock`) and what `stateLock` guards.
/// Credentials are per thread: while serving a call a thread holds its
/// caller's fs ids, groups and file capabilities (`withFiles`), and the
/// supervisor's own otherwise; memory of callers is reached with the
/// supervisor's power (`reachingCaller`), never on a path the workload names.
public final class Kernel: @unchecked Sendable {
    public let tracer = PtraceTracer()
    public let pids = PidTable()
    /// Guards trapCounts, parentsKnown, the names and the observer.
    let stateLock = Lock()
    public let clocks: Clocks
    public var hostname: String {
        get { stateLock.withLock { _hostname } }
        set { stateLock.withLock { _hostname = newValue } }
    }
    public var domainname: String {
        get { stateLock.withLock { _domainname } }
        set { stateLock.withLock { _domainname = newValue } }
    }
    private var _hostname: String
    private var _domainname: String
    /// Built on first use, after the child is spawned: building it (~0.2 ms)
    /// then overlaps the child's set-up instead of delaying its clone.
    var table: SyscallTable { SyscallTable.shared }
    var spec: SandboxSpec

    /// Trapped calls seen, by number (the per-run report).
    public private(set) var trapCounts = [Int](repeating: 0, count: Int(SyscallTable.maxNumber) + 1)
    public private(set) var execCount = 0
    /// The fast clock_gettime mapped into every program, unless time is
    /// fixed (then every clock read must reach the sentry) or the host
    /// cannot have one.
    lazy var sentryVDSO: SentryVDSO? = spec.clockOffsets.realtimeStart == nil && spec.fastClocks ? SentryVDSO.available : nil
    /// The last deadline each thread's call was given in scratch memory, in
    /// case the kernel restarts the call (see Time.rewriteArgument).
    var shiftedDeadlines: [HostTid: [UInt8]] = [:]
    /// By number: served calls that Linux never ends with EINTR (all but the waits).
    lazy var neverInterrupted: [UInt8] = (0...SyscallTable.maxNumber).map { nr in
        guard table.handler(nr) != nil, let name = SyscallTable.name(of: nr) else { return 0 }
        return ["wait4", "waitid", "clock_nanosleep", "futex", "futex_waitv", "mq_timedsend", "mq_timedreceive"]
            .contains(name) ? 0 : 1
    }
    /// The time-stamp counter at sandbox start: the sandbox's counter starts near 0.
    let tscBase = ThreadCalls.rdtsc()
    /// With an active observation: refused calls and straced calls in flight.
    var observer: Observer?
    /// The workload's file system, once its root exists (after pivot_root).
    var files: FileSystem?
    /// The serving thread's own cwd, to come back to after a call made from inside a sandbox directory.
    var homeDirectory: Int32 = -1
    /// The supervisor's root, to come back to after a call made chrooted into the sandbox's.
    var hostRoot: Int32 = -1
    /// The sandbox's cgroup, when the config sets limits.
    var cgroup: Cgroup?
    /// Calls refused during the run (recorded when observing refused calls).
    public var refusedCalls: [RefusedCall] { stateLock.withLock { observer?.refusedCalls ?? [] } }

    /// The sandbox joined a pid namespace (a pod's, `--pid=container:X`):
    /// its other processes are not the sentry's, yet as in Linux they are
    /// there to see and signal, so pids the table does not know are the
    /// kernel's to find (or not) in the caller's namespace; the sandbox's
    /// first process is not that namespace's init, and when it ends the
    /// sentry ends the rest of its own processes, as runc does.
    let sharesPidNamespace: Bool

    /// With a user namespace of the sandbox's own: its uid and gid maps.
    /// Ids the sentry shows or takes are translated through them.
    let idMaps: (uid: IDMap, gid: IDMap)?
    /// A root-run sandbox in its own user namespace: its capabilities hold
    /// there, over files whose owner is mapped. The serving threads act in
    /// the host's namespace and cannot tell which files along a walk are
    /// mapped, so they act with the caller's ids and none of its capabilities
    /// (stricter than Linux, never wider: a host file the namespace does not
    /// own stays out of reach of its root).
    let confinesCapabilities: Bool

    public init(_ spec: SandboxSpec) {
        self.spec = spec
        self.sharesPidNamespace = spec.child.joinNamespaces.contains { $0.type == Linux.cloneNewPID }
        self.idMaps = spec.child.userNamespace.map { (IDMap($0.uidMap), IDMap($0.gidMap)) }
        self.confinesCapabilities = spec.child.userNamespace != nil && !Linux.rootless
        self._hostname = spec.hostname
        self._domainname = spec.domainname
        self.clocks = Clocks(offsets: spec.clockOffsets)
    }

    /// Spawns the workload and serves it until its last task has gone.
    /// `beforePivot` (if given) runs once the init has made its mounts, before
    /// pivot_root (createContainer hooks); false kills the workload.
    /// `beforeStart` runs once the init is set up and seized, before it may
    /// exec (the CLI forwards signals to it, `create` waits for `start`); it
    /// returns false to kill the workload instead of starting it.
    /// `watch`: a further fd (the control socket); `onReadable` runs on this
    /// thread when it is readable, and may call `spawnJoined`.
    public func run(
        beforePivot: ((HostTid) -> Bool)? = nil,
        beforeStart: (HostTid) -> Bool = { _ in true },
        afterStart: (HostTid) -> Void = { _ in },
        watch: (fd: Int32, onReadable: (Kernel) -> Void)? = nil
    ) throws(Errno) -> ExitStatus {
        prepareChild(pausingBeforePivot: beforePivot != nil)
        // The child makes its namespaces and mounts (about 1 ms) while this
        // thread builds its filter, the event loop and the serving threads.
        let child = try Spawner.spawn(spec.child)
        Timing.mark("cloned")
        defer { child.closeErrorPipe() }
        let cgroup: Cgroup?
        do { cgroup = try joinCgroup(child.pid) } catch {
            discard(child)
            throw error
        }
        defer { cgroup?.remove() }
        self.cgroup = cgroup
        let filter: SeccompProgram
        let events: EventLoop
        let pool: ServingPool
        do {
            filter = try table.program(
                notify: spec.useNotifications, observing: spec.observation, profile: spec.fileProfile,
                cacheDirectory: spec.filterCacheDirectory)
            Timing.mark("filter ready")
            events = try EventLoop(tracer: tracer)
            // Made before the pool's threads may read them.
            _ = sentryVDSO
            _ = neverInterrupted
            pool = try makeServingPool()
        } catch {
            discard(child)
            throw error
        }
        events.watchedFD = watch?.fd
        servingPool = pool
        defer {
            pool.stop()
            servingPool = nil
        }
        if let failed = try setUp(
            child, filter: filter, pool: pool, events: events, beforePivot: beforePivot, beforeStart: beforeStart,
            afterStart: afterStart)
        {
            return failed
        }
        initPid = child.pid
        let initStatus = serveUntilDone(events, watch: watch)
        // A serving thread may still be finishing a donation its caller no longer waits for.
        waitForDonationsInFlight()
        actAsSupervisor()
        if execCount == 0, let failure = child.failure() { return .failedBeforeExec(failure) }
        return initStatus ?? .signaled(SIGKILL)
    }

    /// How the child is to be made: how its calls come to the sentry, that
    /// its filter comes with the release (built meanwhile), what it waits for.
    private func prepareChild(pausingBeforePivot: Bool) {
        // strace prints every emulated call too: those come as ptrace stops.
        if spec.observation.straceFD != nil { spec.useNotifications = false }
        // With a fixed start time no host clock may show, the time-stamp counter included.
        spec.child.trapTSC = spec.clockOffsets.realtimeStart != nil
        if spec.observation.isActive { observer = Observer(spec.observation) }
        spec.child.filterAtRelease = true
        // File calls always come as notifications: only they can donate an fd.
        spec.child.wantListener = true
        spec.child.pauseBeforePivot = pausingBeforePivot
    }

    /// The serving threads. Their threads keep the kernel alive: one may
    /// still be finishing a call (or starting) after `run` returns.
    private func makeServingPool() throws(Errno) -> ServingPool {
        let pool = try ServingPool(
            prepareThread: { [self] in prepareServingThread() },
            beforeStartingThread: { [self] in actAsSupervisor() },
            handsOver: { [table] call in table.handsOver(call.args.number) },
            serve: { [self] call, listener in serve(NotifiedCall(notification: call, listener: listener)) })
        pool.whenQuiet = { [latency] in latency.release() }
        return pool
    }

    /// From the spawned child to its release into the workload's program:
    /// seized, registered, mounted (hooks), set up, its file system opened,
    /// started. The status to return at once if it failed before exec, else nil.
    private func setUp(
        _ child: SpawnedChild, filter: SeccompProgram, pool: ServingPool, events: EventLoop, beforePivot: ((HostTid) -> Bool)?,
        beforeStart: (HostTid) -> Bool, afterStart: (HostTid) -> Void
    ) throws(Errno) -> ExitStatus? {
        if let socket = child.listenerSocket { pool.expectListener(on: socket) }
        do {
            try tracer.seize(child.pid)
        } catch {
            // The child sets itself up while we seize it: it may already have failed.
            discard(child)
            if let failure = child.failure() { return .failedBeforeExec(failure) }
            throw error
        }
        if !sharesPidNamespace {
            pids.add(hostTid: child.pid, vtid: 1, hostTgid: child.pid, vpid: 1)
        } else if register(child.pid) == nil {
            discard(child)
            throw Errno.noSuchProcess
        }
        var proceed = true
        if let beforePivot {
            if let failure = child.waitUntilMounted() {
                discard(child)
                return .failedBeforeExec(failure)
            }
            proceed = beforePivot(child.pid)
            if proceed { child.proceed() }
        }
        if proceed, let failure = child.waitUntilReady() {
            Timing.mark("child failed")
            discard(child)
            return .failedBeforeExec(failure)
        }
        Timing.mark("child set up")
        if proceed {
            do { try openFileSystem(child.pid) } catch {
                discard(child)
                throw error
            }
        }
        Timing.mark("file system opened")
        if proceed {
            do { try pool.start() } catch {
                discard(child)
                throw error
            }
        }
        if proceed && beforeStart(child.pid) {
            child.release(filter: filter)
            Timing.mark("released")
            afterStart(child.pid)
            // Once the sandbox idles, set-up code is done with: the supervisor
            // keeps mapped only what serving touches (the rest stays in the page cache).
            if getenv("MOAT_PAGEOUT") == nil { events.whenIdle = pageOutWhenIdle(events, pool) }
        } else {
            kill(child.pid, SIGKILL)
        }
        return nil
    }

    /// The tracing thread's loop: every ptrace stop of the sandbox, and the
    /// watched fd, until the init and every task are gone. The init's status.
    private func serveUntilDone(_ events: EventLoop, watch: (fd: Int32, onReadable: (Kernel) -> Void)?) -> ExitStatus? {
        var initStatus: ExitStatus?
        var restKilled = false
        while let event = events.next() {
            guard case .stop(let stop) = event else {
                actAsSupervisor()
                watch?.onReadable(self)
                continue
            }
            switch stop {
            case .syscall(let tid, let args): serve(StoppedCall(tid: tid, args: args))
            case .syscallExit(let tid, let result): finishSyscall(tid, result: result)
            case .newTask(let parent, let newTid): adopt(newTid, of: parent)
            case .exec(let tid, let former): execed(tid, former: former)
            case .groupStop(let tid, _): tracer.listen(tid)
            case .signal(let tid, let signal): deliver(signal, to: tid)
            case .eventStop(let tid) where tid == initPid && !orphansToReap.isEmpty:
                tracer.resume(tid, signal: reapOrphans(in: tid))
            case .eventStop(let tid):
                if pids.task(host: tid) == nil { register(tid) }
                tracer.resume(tid)
            case .exited(let tid, let code):
                if tid == initPid { initStatus = .exited(code) }
                exit(tid, status: .exited(code))
            case .killed(let tid, let signal):
                servingPool?.callerMayHaveStoppedWaiting()
                if tid == initPid { initStatus = .signaled(initFault ?? signal) }
                exit(tid, status: .signaled(signal))
            }
            // In a shared pid namespace nothing ends the rest with the first
            // process: all of them once, then each new one as it is reported.
            if initStatus != nil && sharesPidNamespace {
                if !restKilled {
                    restKilled = true
                    pids.forEachTask { task in ThreadCalls.tgkill(task.group.hostTgid, task.hostTid, SIGKILL) }
                } else if case .stop(.newTask(_, let tid)) = event {
                    ThreadCalls.tgkill(pids.task(host: tid)?.group.hostTgid ?? tid, tid, SIGKILL)
                }
            }
            // Done when the init and every task of the sandbox are gone, even if
            // this process has children of its own that are not the workload's
            // (a shell's process substitution that exec'd moat).
            if initStatus != nil && pids.liveTaskCount == 0 && joinedProcesses.isEmpty {
                Timing.mark("workload gone")
                break
            }
        }
        return initStatus
    }

    /// A syscall-exit stop: the checks a call left for its result, then on.
    private func finishSyscall(_ tid: HostTid, result: Int64) {
        if let task = pids.task(host: tid), let connect = task.pendingConnect {
            task.pendingConnect = nil
            UnixSockets.verifyConnect(self, task, connect, result: result)
        }
        if let task = pids.task(host: tid), let wait = task.pendingSignalWait {
            task.pendingSignalWait = nil
            Signals.finishWait(self, task, wait, result: result)
        }
        observe { _ = $0.finish(tid, result: result) }
        tracer.resume(tid)
    }

    /// A new task (fork, vfork, clone) reported at its parent's event stop.
    private func adopt(_ newTid: HostTid, of parent: HostTid) {
        if pids.task(host: newTid) == nil { register(newTid) }
        // A forked process has its parent's mappings, the host vDSO's among them.
        if let child = pids.task(host: newTid)?.group, let from = pids.task(host: parent)?.group, child !== from {
            if child.hostVDSO == nil { child.hostVDSO = from.hostVDSO }
            child.parentVpid = from.vpid
        }
        tracer.resume(parent)
    }

    /// An exec stop: the new program is checked against what the sentry
    /// allowed before it runs, and given the sentry vDSO.
    private func execed(_ tid: HostTid, former: HostTid) {
        Timing.mark("exec")
        // The new image may be setuid, hence not dumpable: its memory and
        // /proc entries are read with the supervisor's power, not the last caller's.
        actAsSupervisor()
        observe { $0.abandon(former, result: 0) }
        execCount += 1
        let caller = pids.task(host: former)
        Exec.verify(tid: tid, expected: caller?.expectedExec)
        caller?.expectedExec = nil
        pids.execTookOver(tid: tid, former: former)
        // exec may change capabilities.
        pids.task(host: tid)?.credentials = nil
        tracer.resume(
            tid,
            signal: VDSO.prepare(
                in: tid, tracer: tracer, sentry: sentryVDSO, clocks: clocks,
                group: pids.task(host: tid)?.group))
    }

    /// A signal-delivery stop.
    private func deliver(_ signal: Int32, to tid: HostTid) {
        servingPool?.callerMayHaveStoppedWaiting()
        // An rdtsc made to fault: answered, not delivered.
        if signal == SIGSEGV && spec.child.trapTSC && ThreadCalls.emulateRdtsc(tid, base: tscBase) == 1 {
            tracer.resume(tid)
        } else if initDiesOfFault(tid, signal) {
            endInit(ofFault: signal)
        } else {
            // A signal that came while a call waited for its notification's
            // answer: restart the call (getpgid never fails with EINTR).
            if spec.useNotifications {
                _ = ThreadCalls.restartInterrupted(tid, neverInterrupted: neverInterrupted)
            }
            tracer.resume(tid, signal: signal)
        }
    }

    /// Held while fds are being donated (see LowLatency).
    let latency = LowLatency()

    /// The running sandbox's serving threads (for `spawnJoined` to add a listener to).
    private var servingPool: ServingPool?

    /// Once the sandbox idles (no stop, no call for half a second), set-up
    /// code is done with: the supervisor keeps mapped only what serving
    /// touches (the rest stays in the page cache).
    private func pageOutWhenIdle(_ events: EventLoop, _ pool: ServingPool) -> () -> Void {
        { [unowned self] in
            if pool.idleMs >= Int64(events.idleAfterMs) {
                if OwnImage.pageOut() > 0 { Timing.mark("paged out") }
            } else {
                events.whenIdle = pageOutWhenIdle(events, pool)
            }
        }
    }

    /// Processes started by `spawnJoined`, until they exit.
    private var joinedProcesses: [HostTid: (child: SpawnedChild, onExit: (ExitStatus) -> Void)] = [:]
    /// The running workload's init (host pid), once spawned.
    public private(set) var initPid: HostTid?

    /// Starts a process inside the running sandbox (`moat exec`): in the
    /// init's namespaces, traced and served like every other task (on ptrace
    /// stops: a new listener would need its own place in the event loop).
    /// `onExit` gets its status when it ends.
    public func spawnJoined(
        _ child: ChildSpec, stdio: [Int32], console: Int32 = -1,
        onExit: @escaping (ExitStatus) -> Void
    ) throws(Errno) -> HostTid {
        guard let initPid else { throw Errno.noSuchProcess }
        actAsSupervisor()
        var spec = child
        // Its own filter and listener, so that its file calls can take donated fds
        // (beyond the loop's room for listeners: ptrace stops, the kernel opening in the pivoted root).
        let listener = servingPool?.hasRoomForListener == true
        spec.filter = try table.program(
            notify: false, observing: self.spec.observation, listener: listener,
            profile: self.spec.fileProfile, cacheDirectory: self.spec.filterCacheDirectory)
        spec.wantListener = listener
        spec.filterAtRelease = false
        // In the sandbox's user namespace (rootless), groups are as the init's were set.
        spec.userNamespace = self.spec.child.userNamespace
        spec.trapTSC = self.spec.child.trapTSC
        let spawned = try Spawner.spawnJoined(spec, initPid: initPid, stdio: stdio, console: console)
        do { try tracer.seize(spawned.pid) } catch {
            discard(spawned)
            spawned.closeErrorPipe()
            throw error
        }
        register(spawned.pid)
        if let socket = spawned.listenerSocket { servingPool?.expectListener(on: socket) }
        if let failure = spawned.waitUntilReady() {
            discard(spawned)
            pids.remove(hostTid: spawned.pid)
            spawned.closeErrorPipe()
            onExit(.failedBeforeExec(failure))
            return spawned.pid
        }
        joinedProcesses[spawned.pid] = (spawned, onExit)
        spawned.release()
        return spawned.pid
    }

    /// Puts the init in the sandbox's cgroup before it can fork, so that
    /// every task counts against the pids and memory limits.
    private func joinCgroup(_ pid: HostTid) throws(Errno) -> Cgroup? {
        let usesMemory = spec.memoryLimit != nil || spec.memoryReservation != nil || spec.disableOOMKiller
        var controllers =
            (spec.pidsLimit == nil ? [] : [Cgroup.Controller.pids])
            + (usesMemory ? [Cgroup.Controller.memory] : [])
            + (spec.cpu == nil ? [] : [Cgroup.Controller.cpu])
            + (spec.blockIOWeight == nil ? [] : [Cgroup.Controller.blkio])
            + (spec.cpus == nil && spec.mems == nil ? [] : [Cgroup.Controller.cpuset])
        let withSupervisor = spec.containerCgroup && !Linux.rootless
        if withSupervisor {
            controllers = (Cgroup.Controller.accounting + (controllers.contains(.cpuset) ? [.cpuset] : []))
                .filter { Cgroup.available($0) || controllers.contains($0) }
        }
        guard !controllers.isEmpty else { return nil }
        let group = try Cgroup(path: spec.cgroupPath, controllers: controllers)
        do {
            // pids.max is the config's, as engines and the OCI suite read it back;
            // with the supervisor in the cgroup its task counts as the container's.
            if let limit = spec.pidsLimit { try group.limitPids(limit) }
            if let limit = spec.memoryLimit { try group.limitMemory(limit, swap: spec.memorySwap) }
            if let bytes = spec.memoryReservation { try group.reserveMemory(bytes) }
            if spec.disableOOMKiller { try group.disableOOMKiller() }
            if let weight = spec.blockIOWeight { try group.setBlockIOWeight(weight) }
            if spec.cpus != nil || spec.mems != nil { try group.restrictCPUs(cpus: spec.cpus, mems: spec.mems) }
            if let cpu = spec.cpu { try group.limitCPU(shares: cpu.shares, quota: cpu.quota, period: cpu.period) }
            try group.add(pid)
            if withSupervisor { try group.addSupervisor() }
        } catch {
            group.remove()
            throw error
        }
        return group
    }

    /// Kills a child that will not run, and reaps it (it is our tracee too: __WALL).
    private func discard(_ child: SpawnedChild) {
        kill(child.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(child.pid, &status, 0x4000_0000)
    }

    /// Answers one call held by user notification, through the same table.
    /// Serves one trapped call, however it came: runs its handler and
    /// answers as the outcome says (see TrappedCall).
    func serve(_ call: some TrappedCall) {
        let nr = call.args.number
        count(nr)
        guard let handler = table.handler(nr), let task = pids.task(host: call.tid) ?? register(call.tid) else {
            call.unserved(self)
            return
        }
        // A straced call's inputs are read before the caller runs on (and may exit).
        let inputs = call.readsInputsFirst ? observer?.inputs(call.tid, call.args) : nil
        let result: Int
        do {
            switch try handle(call, handler, task) {
            case .value(let value): result = value
            case .runOnHost:
                call.runOnHost(self, task)
                return
            case .runOnHostToExit:
                call.runOnHostToExit(self, task)
                return
            case .donate(let fd, let cloexec):
                guard let failed = call.donate(self, task, fd: fd, cloexec: cloexec, inputs: inputs) else { return }
                result = failed
            }
        } catch {
            result = -Int(error.rawValue)
        }
        call.answer(self, task, value: result, inputs: inputs)
    }

    /// Installs the sentry's `fd` at the caller's lowest free number and
    /// answers the call with it, at once; the sentry's copy is closed after.
    /// nil once done, else -errno (the call still waits for its answer).
    func donate(
        _ fd: Int32, cloexec: Bool, answering call: Notification, on listener: NotificationListener, task: Task, inputs: [String?]?
    ) -> Int? {
        latency.hold()
        servingPool?.armQuiet()
        let ticket = donations.begin()
        let result = listener.donate(call, fd: fd, cloexec: cloexec)
        close(fd)
        defer { donations.end(ticket) }
        guard result >= 0 else { return result }
        // Printed before the ticket ends: the caller already runs on and may
        // be the last to exit, and `run` waits for open tickets before it
        // returns, so the line is never lost.
        if inputs != nil { observe { $0.printFinished(call.tid, vtid: task.vtid, call.args, result: result, inputs: inputs) } }
        return nil
    }

    /// Fds answered to callers whose sentry copy is not closed yet. While one
    /// is, a file just written and closed by its caller is still open for
    /// writing, and an exec of it would fail with ETXTBSY.
    let donations = DonationsInFlight()

    /// Before an exec runs: until the sentry's copy of every fd donated
    /// before now is closed (microseconds). Donations that begin later are
    /// not waited for, so other processes' opens never hold an exec up.
    func waitForDonationsInFlight() {
        let now = donations.latest
        // (A `for ... where` loop would test all 10,000 times, taking the
        // lock each time: ~0.4 ms on every exec and at every sandbox's end.)
        var waited = 0
        while waited < 10_000 && donations.anyBegun(atOrBefore: now) {
            usleep(20)
            waited += 1
        }
    }

    /// Runs the handler; again if a host call it made failed with EINTR
    /// while the caller still waits: the signal was the pool's own (meant
    /// for this thread a moment earlier), not the caller's.
    private func handle(_ call: some TrappedCall, _ handler: SyscallHandler, _ task: Task) throws(Errno) -> SyscallOutcome {
        while true {
            do { return try handler(self, task, call.args) } catch {
                guard error.rawValue == EINTR, call.isStillWaiting() else { throw error }
            }
        }
    }

    /// Counts a trapped call for the per-run report.
    func count(_ nr: Int32) {
        guard nr >= 0 && nr <= SyscallTable.maxNumber else { return }
        stateLock.withLock { trapCounts[Int(nr)] += 1 }
    }

    /// Runs `body` on the observer, if the run is observed.
    func observe(_ body: (Observer) -> Void) {
        guard let observer else { return }
        stateLock.withLock { body(observer) }
    }

    /// A call that traps only because the run is observed: the sentry
    /// refuses what the filter would have refused, and lets the rest run.
    func observeTrapped(_ tid: HostTid, _ args: SyscallArgs, _ observer: Observer) {
        let vtid = pids.task(host: tid)?.vtid ?? 0
        var refusal: Errno?
        switch table.entry(args.number)?.handling {
        case .deny(let errno)?: refusal = errno
        case nil: refusal = Errno(ENOSYS)
        case .passthroughUnless(let argument, let mask, let errno)? where args[Int(argument)] & mask != 0: refusal = errno
        case .passthroughExcept(let argument, let mask, let values, let errno)? where values.contains(args[Int(argument)] & mask):
            refusal = errno
        default: break
        }
        if let refusal {
            observer.recordRefused(args.number, args, errno: refusal)
            tracer.complete(tid, value: -Int(refusal.rawValue))
            observer.printFinished(tid, vtid: vtid, args, result: -Int(refusal.rawValue), note: " (refused by moat)")
            tracer.resume(tid)
        } else if observer.observation.straces(args.number) {
            observer.begin(tid, vtid: vtid, args)
            tracer.resumeToExit(tid)
        } else {
            tracer.resume(tid)
        }
    }

    /// Opens the sandbox's root (its mount namespace's, after pivot_root) for
    /// the sentry's lookups, and moves this thread into the sandbox's uts,
    /// ipc, net and cgroup namespaces: files under /proc/sys and /proc/net
    /// answer for the namespaces of whoever opens them.
    private func openFileSystem(_ initPid: HostTid) throws(Errno) {
        let root = HostProcfs.open("\(initPid)/root", OpenFlags.path | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw Errno.current }
        files = FileSystem(root: root, procMounts: spec.procMountTargets)
        homeDirectory = open(".", OpenFlags.path | O_DIRECTORY | O_CLOEXEC)
        hostRoot = open("/", OpenFlags.path | O_DIRECTORY | O_CLOEXEC)
        // (Without root the supervisor may not enter them: /proc/sys then answers for its own.)
        for namespace in ["uts", "ipc", "net", "cgroup"] where !Linux.rootless {
            let fd = HostProcfs.open("\(initPid)/ns/\(namespace)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Errno.current }
            namespaceFDs.append(fd)
        }
        try enterSandboxNamespaces()
    }

    /// The sandbox's uts, ipc, net and cgroup namespaces, which every serving thread enters.
    private var namespaceFDs: [Int32] = []

    /// Makes the calling thread ready to serve: its own cwd and umask (a
    /// unix socket is bound from inside its directory), and the sandbox's
    /// namespaces (files under /proc/sys and /proc/net answer for the
    /// namespaces of whoever opens them). Both are per thread in Linux.
    private func enterSandboxNamespaces() throws(Errno) {
        let unshared = ThreadCalls.unshareFS()
        if unshared < 0 { throw Errno(-unshared) }
        for fd in namespaceFDs {
            let rc = ThreadCalls.setns(fd)
            if rc < 0 { throw Errno(Int32(-rc)) }
        }
    }

    /// The first thing a serving thread does. A thread that cannot enter
    /// the sandbox's namespaces would answer for the host's: the supervisor stops.
    func prepareServingThread() {
        cgroup?.moveThreadOutOfPids()
        do { try enterSandboxNamespaces() } catch {
            let message = "moat: a serving thread cannot enter the sandbox's namespaces: \(error)\n"
            _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
            Glibc._exit(125)
        }
    }

    /// Runs a file operation for `task` under its credentials (`realIDs`: its
    /// real uid and gid, for access(2)), with the file system and the caller.
    func withFiles<T>(
        _ task: Task, realIDs: Bool = false,
        _ body: (FileSystem, FileSystem.Caller, Credentials) throws(Errno) -> T
    ) throws(Errno) -> T {
        guard let files else { throw Errno.notImplemented }
        let credentials: Credentials
        if let known = task.credentials {
            credentials = known
        } else {
            var read = try Credentials.of(task.hostTid)
            if confinesCapabilities {
                read.effective = 0
                read.permitted = 0
            }
            credentials = read
            task.credentials = credentials
        }
        let caller = FileSystem.Caller(
            hostTid: task.hostTid, vpid: task.group.vpid, vtid: task.vtid,
            hostPid: { [pids] vpid in
                pids.group(vpid: vpid)?.hostTgid
            }, readOwnLink: { [unowned self] link in self.reachingCaller { HostProcfs.readLink(link) } })
        // Switching costs six credential commits (~14 µs here): the thread
        // keeps the last caller's until another's are needed or the
        // supervisor works for itself (`actAsSupervisor`).
        var applied = realIDs ? credentials.forAccessCheck : credentials
        let held = ServingThread.current
        // The caller's umask shapes what it creates; this thread's own (it
        // has its own fs, see prepareServingThread) is set apart from the ids.
        if held.umask != applied.umask {
            let previous = umask(applied.umask)
            if held.umask == nil { held.supervisorUmask = previous }
            held.umask = applied.umask
        }
        applied.umask = 0
        // Without root the supervisor cannot take other ids; in rootless mode
        // the sandbox's only id is the caller's own anyway.
        if held.credentials != applied && !Linux.rootless {
            held.credentials = nil
            try applied.enter()
            held.credentials = applied
        }
        return try body(files, caller, credentials)
    }

    /// Back to the supervisor's own fs ids, capabilities and umask, before
    /// work that is not on a workload thread's behalf (spawning, state files, cgroups).
    /// Reaches the caller's own state (/proc/<tid>/cwd, fd/N, its fds) with
    /// the supervisor's power where the caller's credentials, held by this
    /// thread, are refused: a process that changed its ids is not dumpable,
    /// and only CAP_SYS_PTRACE reaches it. `attempt` returns an fd (or any
    /// value) and nil or a negative number on failure, with errno set.
    /// Only entries of the caller's own process are ever asked for this way.
    func reachingCaller<T>(_ attempt: () -> T?) -> T? {
        if let value = attempt() { return value }
        let thread = ServingThread.current
        guard errno == EACCES || errno == EPERM, let held = thread.credentials else { return nil }
        let heldUmask = thread.umask
        actAsSupervisor()
        let value = attempt()
        let error = errno
        if (try? held.enter()) != nil { thread.credentials = held }
        if let heldUmask {
            umask(heldUmask)
            thread.umask = heldUmask
        }
        errno = error
        return value
    }

    /// `reachingCaller` for calls that return an fd or -1 with errno.
    func reachingCallerFD(_ attempt: () -> Int32) -> Int32 {
        reachingCaller { () -> Int32? in
            let fd = attempt()
            return fd >= 0 ? fd : nil
        } ?? -1
    }

    /// A copy of the caller's fd `fd` (pidfd_getfd), or -errno.
    func takeCallerFD(_ t: Task, _ fd: Int32) -> Int32 {
        let taken = reachingCallerFD({ () -> Int32 in
            let rc = ThreadCalls.takeFD(of: t.group.hostTgid, fd)
            if rc < 0 {
                errno = -rc
                return -1
            }
            return rc
        })
        return taken >= 0 ? taken : -errno
    }

    /// An O_PATH fd of the caller's /proc/<tid>/`entry` (cwd, fd/N), or -1 with errno.
    func openCallerEntry(_ t: Task, _ entry: String) -> Int32 {
        reachingCallerFD({ HostProcfs.open("\(t.hostTid)/\(entry)", OpenFlags.path | O_CLOEXEC) })
    }

    func actAsSupervisor() {
        let thread = ServingThread.current
        if thread.credentials != nil {
            Credentials.restore()
            thread.credentials = nil
        }
        if thread.umask != nil {
            umask(thread.supervisorUmask)
            thread.umask = nil
        }
    }

    static let faultSignals: Set<Int32> = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP]

    /// The fault signal the init was ended for (reported as its status).
    var initFault: Int32?

    func endInit(ofFault signal: Int32) {
        guard let initPid else { return }
        initFault = signal
        kill(initPid, SIGKILL)
    }

    /// A fault the sentry found on the caller's behalf (a bad pointer given
    /// to a vsyscall): the caller gets `signal` as from the kernel. An init
    /// ignores sent signals, so it is ended as `initDiesOfFault` ends it.
    func deliverFault(_ t: Task, signal: Int32) {
        if t.group.vpid == 1 && HostProc.faultTakesDefaultAction(t.hostTid, signal: signal) {
            endInit(ofFault: signal)
        } else {
            ThreadCalls.tgkill(t.group.hostTgid, t.hostTid, signal)
        }
    }

    /// Whether a signal stopping `tid` is a fault that ends the sandbox's
    /// init. Linux kills an init that faults without a handler (force_sig
    /// clears its immunity to signals), but not while it is ptraced: then
    /// the default action is ignored and the init faults again forever. So
    /// the sentry ends it with SIGKILL and reports the fault's signal.
    func initDiesOfFault(_ tid: HostTid, _ signal: Int32) -> Bool {
        guard Kernel.faultSignals.contains(signal), pids.task(host: tid)?.group.vpid == 1,
            tracer.signalIsAFault(tid)
        else { return false }
        return HostProc.faultTakesDefaultAction(tid, signal: signal)
    }

    /// Exited orphans the init has not reaped, to reap in it at its next stop.
    var orphansToReap: [Int32] = []

    /// A process of the sandbox ended. If it was an orphan (its parent gone,
    /// so it is now the init's child) and the init does not handle SIGCHLD,
    /// nothing would ever wait for it: the sentry reaps it as an init would,
    /// by making the init call wait4 for it (see `reapOrphans`).
    func noteExit(of group: ThreadGroup) {
        // In a joined pid namespace orphans go to its init, which is not ours.
        guard let initPid, !sharesPidNamespace, group.vpid != 1, !Linux.rootless, let parent = group.parentVpid,
            parent != 1, pids.group(vpid: parent)?.exited ?? true
        else { return }
        guard let status = HostProcfs.read("\(initPid)/status").map({ String(decoding: $0, as: UTF8.self) }) else { return }
        let sigchld: UInt64 = 1 << UInt64(SIGCHLD - 1)
        for line in status.split(separator: "\n") where line.hasPrefix("SigCgt:") || line.hasPrefix("SigIgn:") {
            // A handler reaps (an init that knows its job); SIG_IGN makes the kernel reap.
            if let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16), mask & sigchld != 0 { return }
        }
        if orphansToReap.isEmpty { tracer.interrupt(initPid) }
        orphansToReap.append(group.vpid)
    }

    /// At the init's stop: it reaps the orphans (its seccomp filter suspended
    /// for the injected wait4 calls). The signal to deliver on resuming, if any.
    func reapOrphans(in tid: HostTid) -> Int32 {
        actAsSupervisor()
        let orphans = orphansToReap
        orphansToReap = []
        return (try? tracer.reap(in: tid, children: orphans))?.deferredSignal ?? 0
    }

    /// Learns a new task's ids from the host's /proc: its process and its
    /// number in the sandbox's pid namespace.
    @discardableResult
    func register(_ tid: HostTid) -> Task? {
        guard let status = HostProc.status(tid) else { return nil }
        let vpid =
            status.tgid == tid
            ? status.nspid
            : (pids.group(host: status.tgid)?.vpid
                ?? HostProc.status(status.tgid)?.nspid ?? status.nspid)
        return pids.add(hostTid: tid, vtid: status.nspid, hostTgid: status.tgid, vpid: vpid)
    }

    func exit(_ tid: HostTid, status: ExitStatus) {
        if tid == initPid { orphansToReap = [] }
        if let group = pids.task(host: tid)?.group, group.liveThreads == 1 {
            noteExit(of: group)
        }
        shiftedDeadlines[tid] = nil
        observe { $0.abandon(tid, result: nil) }
        if let joined = joinedProcesses.removeValue(forKey: tid) {
            let failure = joined.child.failure()
            joined.child.closeErrorPipe()
            joined.onExit(failure.map { .failedBeforeExec($0) } ?? status)
        }
        pids.remove(hostTid: tid)
        // Unreaped processes stay valid targets; once there are many, drop
        // those the kernel no longer knows.
        if pids.exitedCount > 4096 {
            pids.forgetExited { !HostProcfs.exists("\($0.hostTgid)") }
        }
    }
}

/// Donations by ticket, in order of their start.
final class DonationsInFlight: @unchecked Sendable {
    private let lock = Lock()
    private var next: UInt64 = 0
    private var open: Set<UInt64> = []

    func begin() -> UInt64 {
        lock.withLock {
            next += 1
            open.insert(next)
            return next
        }
    }

    func end(_ ticket: UInt64) { lock.withLock { _ = open.remove(ticket) } }

    /// The last ticket given.
    var latest: UInt64 { lock.withLock { next } }

    func anyBegun(atOrBefore ticket: UInt64) -> Bool { lock.withLock { open.contains { $0 <= ticket } } }
}

/// What one thread holds while it serves calls: the credentials and umask
/// it took for its last caller (nil: the supervisor's own).
final class ServingThread {
    var credentials: Credentials?
    var umask: mode_t?
    var supervisorUmask: mode_t = 0o022

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<ServingThread>.fromOpaque(raw).release() }
        }
        return key
    }()

    /// The calling thread's.
    static var current: ServingThread {
        if let raw = pthread_getspecific(key) { return Unmanaged<ServingThread>.fromOpaque(raw).takeUnretainedValue() }
        let state = ServingThread()
        pthread_setspecific(key, Unmanaged.passRetained(state).toOpaque())
        return state
    }
}
