import Platform

/// The one lock of every task's and process's mutable fields: the tracing
/// thread and the serving threads both read and change them.
let fieldLock = Lock()

/// A thread of the workload: the host's tid and the sandbox's.
public final class Task: @unchecked Sendable {
    public let hostTid: HostTid
    public let vtid: Int32
    public let group: ThreadGroup
    /// Its ids and capabilities for file access, read once from the host's
    /// /proc and forgotten when a call may change them (setuid, capset, umask, exec).
    var credentials: Credentials? {
        get { fieldLock.withLock { _credentials } }
        set { fieldLock.withLock { _credentials = newValue } }
    }
    /// The exec the sentry last allowed this thread, checked at its exec stop.
    var expectedExec: Exec.Expected? {
        get { fieldLock.withLock { _expectedExec } }
        set { fieldLock.withLock { _expectedExec = newValue } }
    }
    /// The unix socket connect the sentry last allowed this thread, checked at its exit.
    var pendingConnect: UnixSockets.PendingConnect? {
        get { fieldLock.withLock { _pendingConnect } }
        set { fieldLock.withLock { _pendingConnect = newValue } }
    }
    /// The rt_sigtimedwait in flight (checked at its exit).
    var pendingSignalWait: Signals.PendingWait? {
        get { fieldLock.withLock { _pendingSignalWait } }
        set { fieldLock.withLock { _pendingSignalWait = newValue } }
    }
    private var _pendingSignalWait: Signals.PendingWait?
    private var _credentials: Credentials?
    private var _expectedExec: Exec.Expected?
    private var _pendingConnect: UnixSockets.PendingConnect?

    init(hostTid: HostTid, vtid: Int32, group: ThreadGroup) {
        self.hostTid = hostTid
        self.vtid = vtid
        self.group = group
    }
}

/// A process of the workload.
public final class ThreadGroup: @unchecked Sendable {
    public let hostTgid: HostTid
    public let vpid: Int32
    /// Changed by the table under its lock.
    public var liveThreads: Int { fieldLock.withLock { _liveThreads } }
    /// Exited but possibly not yet reaped by its parent: still a valid pid for
    /// kill and wait until the kernel says otherwise.
    public var exited: Bool { fieldLock.withLock { _exited } }
    fileprivate var _liveThreads = 0
    fileprivate var _exited = false
    /// Where the host's vDSO is mapped in this process, when the sentry vDSO
    /// calls it: its clock_gettime may fall back to a real syscall, which the
    /// sentry must then answer with the host's time.
    var hostVDSO: ClosedRange<UInt64>? {
        get { fieldLock.withLock { _hostVDSO } }
        set { fieldLock.withLock { _hostVDSO = newValue } }
    }
    /// The process that forked it (nil: the init, or one that joined).
    var parentVpid: Int32? {
        get { fieldLock.withLock { _parentVpid } }
        set { fieldLock.withLock { _parentVpid = newValue } }
    }
    private var _hostVDSO: ClosedRange<UInt64>?
    private var _parentVpid: Int32?

    init(hostTgid: HostTid, vpid: Int32) {
        self.hostTgid = hostTgid
        self.vpid = vpid
    }
}

/// The sentry's process table. Virtual pids are the numbers of the sandbox's
/// pid namespace, so the kernel's own writes (fork results, CLONE_PARENT_SETTID,
/// SIGCHLD's si_pid) agree with what the sentry answers. Every method takes
/// `fieldLock`: the tracing thread and the serving threads share the table.
public final class PidTable: @unchecked Sendable {
    private var byHostTid: [HostTid: Task] = [:]
    private var groupsByVpid: [Int32: ThreadGroup] = [:]
    private var groupsByHost: [HostTid: ThreadGroup] = [:]
    private var tasksByVtid: [Int32: Task] = [:]
    private var exitedGroups = 0

    public init() {}

    /// Live threads of the workload.
    public var liveTaskCount: Int { fieldLock.withLock { byHostTid.count } }

    public var processCount: Int { fieldLock.withLock { groupsByVpid.values.reduce(0) { $0 + ($1._exited ? 0 : 1) } } }

    public func task(host tid: HostTid) -> Task? { fieldLock.withLock { byHostTid[tid] } }
    /// Every live task (a copy: `body` runs without the lock).
    func forEachTask(_ body: (Task) -> Void) { fieldLock.withLock { Array(byHostTid.values) }.forEach(body) }
    public func group(vpid: Int32) -> ThreadGroup? { fieldLock.withLock { groupsByVpid[vpid] } }
    public func group(host tgid: HostTid) -> ThreadGroup? { fieldLock.withLock { groupsByHost[tgid] } }
    public func task(vtid: Int32) -> Task? { fieldLock.withLock { tasksByVtid[vtid] } }

    /// Adds a live thread. `hostTgid`/`vpid` name its process, `vtid` the thread.
    @discardableResult
    public func add(hostTid: HostTid, vtid: Int32, hostTgid: HostTid, vpid: Int32) -> Task {
        fieldLock.withLock { addLocked(hostTid: hostTid, vtid: vtid, hostTgid: hostTgid, vpid: vpid) }
    }

    private func addLocked(hostTid: HostTid, vtid: Int32, hostTgid: HostTid, vpid: Int32) -> Task {
        if let existing = byHostTid[hostTid] { return existing }
        let group: ThreadGroup
        if let live = groupsByHost[hostTgid], !live._exited {
            group = live
        } else {
            if groupsByVpid[vpid]?._exited == true { exitedGroups -= 1 }
            group = ThreadGroup(hostTgid: hostTgid, vpid: vpid)
            groupsByHost[hostTgid] = group
            groupsByVpid[vpid] = group
        }
        let task = Task(hostTid: hostTid, vtid: vtid, group: group)
        group._liveThreads += 1
        byHostTid[hostTid] = task
        tasksByVtid[vtid] = task
        return task
    }

    /// A thread exited. Its process stays known (as exited) until its pid is reused.
    public func remove(hostTid: HostTid) {
        fieldLock.withLock { removeLocked(hostTid: hostTid) }
    }

    private func removeLocked(hostTid: HostTid) {
        guard let task = byHostTid.removeValue(forKey: hostTid) else { return }
        if tasksByVtid[task.vtid] === task { tasksByVtid[task.vtid] = nil }
        let group = task.group
        group._liveThreads -= 1
        if group._liveThreads == 0 && !group._exited {
            group._exited = true
            exitedGroups += 1
            if groupsByHost[group.hostTgid] === group { groupsByHost[group.hostTgid] = nil }
        }
    }

    /// execve from a non-leader: `former` now runs under the leader's tid and
    /// every other thread of the process is gone.
    public func execTookOver(tid: HostTid, former: HostTid) {
        fieldLock.withLock { execTookOverLocked(tid: tid, former: former) }
    }

    private func execTookOverLocked(tid: HostTid, former: HostTid) {
        guard tid != former, let task = byHostTid[former] else { return }
        let group = task.group
        for (host, other) in byHostTid where other.group === group && host != former {
            removeLocked(hostTid: host)
        }
        byHostTid[former] = nil
        if tasksByVtid[task.vtid] === task { tasksByVtid[task.vtid] = nil }
        let leader = Task(hostTid: tid, vtid: group.vpid, group: group)
        byHostTid[tid] = leader
        tasksByVtid[group.vpid] = leader
        group._liveThreads = 1
    }

    /// Exited processes whose pids were never reused; kept so kill and wait on
    /// an unreaped child behave, dropped once there are many of them.
    public var exitedCount: Int { fieldLock.withLock { exitedGroups } }

    /// `isGone` runs under the lock: it must not use the table.
    public func forgetExited(where isGone: (ThreadGroup) -> Bool) {
        fieldLock.withLock {
            for (vpid, group) in groupsByVpid where group._exited && isGone(group) {
                groupsByVpid[vpid] = nil
                exitedGroups -= 1
            }
        }
    }
}
