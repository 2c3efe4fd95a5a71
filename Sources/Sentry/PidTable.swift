import Platform

/// A thread of the workload: the host's tid and the sandbox's.
public final class Task {
    public let hostTid: HostTid
    public internal(set) var vtid: Int32
    public internal(set) var group: ThreadGroup
    /// Its ids and capabilities for file access, read once from the host's
    /// /proc and forgotten when a call may change them (setuid, capset, umask, exec).
    var credentials: Credentials?
    /// The exec the sentry last allowed this thread, checked at its exec stop.
    var expectedExec: Exec.Expected?
    /// The unix socket connect the sentry last allowed this thread, checked at its exit.
    var pendingConnect: UnixSockets.PendingConnect?

    init(hostTid: HostTid, vtid: Int32, group: ThreadGroup) {
        self.hostTid = hostTid
        self.vtid = vtid
        self.group = group
    }
}

/// A process of the workload.
public final class ThreadGroup {
    public internal(set) var hostTgid: HostTid
    public let vpid: Int32
    public internal(set) var liveThreads = 0
    /// Exited but possibly not yet reaped by its parent: still a valid pid for
    /// kill and wait until the kernel says otherwise.
    public internal(set) var exited = false
    /// Where the host's vDSO is mapped in this process, when the sentry vDSO
    /// calls it: its clock_gettime may fall back to a real syscall, which the
    /// sentry must then answer with the host's time.
    var hostVDSO: ClosedRange<UInt64>?
    /// The process that forked it (nil: the init, or one that joined).
    var parentVpid: Int32?

    init(hostTgid: HostTid, vpid: Int32) {
        self.hostTgid = hostTgid
        self.vpid = vpid
    }
}

/// The sentry's process table. Virtual pids are the numbers of the sandbox's
/// pid namespace, so the kernel's own writes (fork results, CLONE_PARENT_SETTID,
/// SIGCHLD's si_pid) agree with what the sentry answers.
public struct PidTable {
    private var byHostTid: [HostTid: Task] = [:]
    private var groupsByVpid: [Int32: ThreadGroup] = [:]
    private var groupsByHost: [HostTid: ThreadGroup] = [:]
    private var tasksByVtid: [Int32: Task] = [:]
    private var exitedGroups = 0

    public init() {}

    /// Live threads of the workload.
    public var liveTaskCount: Int { byHostTid.count }

    public var processCount: Int { groupsByVpid.values.reduce(0) { $0 + ($1.exited ? 0 : 1) } }

    public func task(host tid: HostTid) -> Task? { byHostTid[tid] }
    func forEachTask(_ body: (Task) -> Void) { byHostTid.values.forEach(body) }
    public func group(vpid: Int32) -> ThreadGroup? { groupsByVpid[vpid] }
    public func group(host tgid: HostTid) -> ThreadGroup? { groupsByHost[tgid] }
    public func task(vtid: Int32) -> Task? { tasksByVtid[vtid] }

    /// Adds a live thread. `hostTgid`/`vpid` name its process, `vtid` the thread.
    @discardableResult
    public mutating func add(hostTid: HostTid, vtid: Int32, hostTgid: HostTid, vpid: Int32) -> Task {
        if let existing = byHostTid[hostTid] { return existing }
        let group: ThreadGroup
        if let live = groupsByHost[hostTgid], !live.exited {
            group = live
        } else {
            if groupsByVpid[vpid]?.exited == true { exitedGroups -= 1 }
            group = ThreadGroup(hostTgid: hostTgid, vpid: vpid)
            groupsByHost[hostTgid] = group
            groupsByVpid[vpid] = group
        }
        let task = Task(hostTid: hostTid, vtid: vtid, group: group)
        group.liveThreads += 1
        byHostTid[hostTid] = task
        tasksByVtid[vtid] = task
        return task
    }

    /// A thread exited. Its process stays known (as exited) until its pid is reused.
    public mutating func remove(hostTid: HostTid) {
        guard let task = byHostTid.removeValue(forKey: hostTid) else { return }
        if tasksByVtid[task.vtid] === task { tasksByVtid[task.vtid] = nil }
        let group = task.group
        group.liveThreads -= 1
        if group.liveThreads == 0 && !group.exited {
            group.exited = true
            exitedGroups += 1
            if groupsByHost[group.hostTgid] === group { groupsByHost[group.hostTgid] = nil }
        }
    }

    /// execve from a non-leader: `former` now runs under the leader's tid and
    /// every other thread of the process is gone.
    public mutating func execTookOver(tid: HostTid, former: HostTid) {
        guard tid != former, let task = byHostTid[former] else { return }
        let group = task.group
        for (host, other) in byHostTid where other.group === group && host != former {
            remove(hostTid: host)
        }
        byHostTid[former] = nil
        if tasksByVtid[task.vtid] === task { tasksByVtid[task.vtid] = nil }
        let leader = Task(hostTid: tid, vtid: group.vpid, group: group)
        byHostTid[tid] = leader
        tasksByVtid[group.vpid] = leader
        group.liveThreads = 1
    }

    /// Exited processes whose pids were never reused; kept so kill and wait on
    /// an unreaped child behave, dropped once there are many of them.
    public var exitedCount: Int { exitedGroups }

    public mutating func forgetExited(where isGone: (ThreadGroup) -> Bool) {
        for (vpid, group) in groupsByVpid where group.exited && isGone(group) {
            groupsByVpid[vpid] = nil
            exitedGroups -= 1
        }
    }
}
