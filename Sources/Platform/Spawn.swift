import CShims
import Glibc

/// One mount(2) the child makes inside its new root before pivot_root.
public struct ChildMount: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case bind, filesystem }
    public var kind: Kind
    public var source: String
    public var target: String  // absolute, inside the new root
    public var fstype: String
    public var flags: UInt
    public var remountFlags: UInt  // applied by a bind remount (MS_RDONLY ...)
    public var data: String
    /// MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE (with MS_REC), set once mounted; 0 leaves it.
    public var propagation: UInt

    public init(
        kind: Kind, source: String, target: String, fstype: String = "",
        flags: UInt = 0, remountFlags: UInt = 0, data: String = "", propagation: UInt = 0
    ) {
        self.kind = kind
        self.source = source
        self.target = target
        self.fstype = fstype
        self.flags = flags
        self.remountFlags = remountFlags
        self.data = data
        self.propagation = propagation
    }
}

/// A device node the child makes in the new root (linux.devices).
public struct ChildDevice: Sendable, Equatable {
    public var path: String  // absolute, inside the new root
    public var mode: UInt32  // S_IFCHR, S_IFBLK or S_IFIFO | permission bits
    public var major: UInt32
    public var minor: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public init(path: String, mode: UInt32, major: UInt32, minor: UInt32, uid: UInt32, gid: UInt32) {
        (self.path, self.mode, self.major, self.minor, self.uid, self.gid) = (path, mode, major, minor, uid, gid)
    }
}

public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64
    public init(resource: Int32, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.soft = soft
        self.hard = hard
    }
}

public struct CapabilitySets: Sendable, Equatable {
    public var bounding: UInt64 = 0
    public var effective: UInt64 = 0
    public var permitted: UInt64 = 0
    public var inheritable: UInt64 = 0
    public var ambient: UInt64 = 0
    public init() {}
}

/// Everything the child does between clone and execve, decided before the clone.
public struct ChildSpec: Sendable {
    public var rootfs: String
    public var readonlyRoot = false
    /// The root and every bound directory are mounted nodev: a device node in
    /// the image or a volume opens nothing (the kernel refuses it before any
    /// driver sees the open). Bound files (a device bound on purpose) are left.
    public var nodevFiles = false
    public var cloneFlags: UInt = 0
    /// linux.rootfsPropagation as mount flags: the root's propagation (runc's
    /// default: MS_SLAVE | MS_REC, so the host's mounts reach in, none out).
    public var rootPropagation: UInt = (1 << 19) | (1 << 14)
    public var mounts: [ChildMount] = []
    public var defaultDevices = false
    /// linux.devices, made after the mounts.
    public var devices: [ChildDevice] = []
    public var maskedPaths: [String] = []
    public var readonlyPaths: [String] = []
    public var hostname: String?
    /// Written to /proc/sys after the namespaces exist ("net.ipv4.ip_forward" → net/ipv4/ip_forward).
    public var sysctls: [(key: String, value: String)] = []
    public var cwd = "/"
    /// Paths inside the new root to execve, in order (PATH search done by the caller).
    public var executableCandidates: [String] = []
    public var argv: [String] = []
    public var env: [String] = []
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var groups: [UInt32] = []
    public var umask: Int32?
    public var rlimits: [ResourceLimit] = []
    public var capabilities = CapabilitySets()
    /// Loaded last, right before execve.
    public var filter = SeccompProgram(instructions: [])
    /// The filter is not known yet: it comes with `release(filter:)`, so the
    /// supervisor builds it while the child sets itself up.
    public var filterAtRelease = false
    /// Load the filter with a user-notification listener and hand it over.
    public var wantListener = false
    /// The config's own seccomp profile, loaded after Moat's.
    public var extraFilter: SeccompProgram?
    /// process.terminal; with a console socket the child makes a pty and sends its master there.
    public var terminal = false
    public var consoleSocket: String?
    public var consoleSize: (rows: UInt16, columns: UInt16)?
    /// Stop once mounted, before pivot_root, until `proceed()` (createContainer hooks).
    public var pauseBeforePivot = false
    /// Move the root over "/" and chroot instead of pivot_root (runc --no-pivot).
    public var noPivot = false
    /// Fds 3 ..< 3 + n are passed on to the workload (--preserve-fds).
    public var preservedFDs: Int32 = 0
    /// rdtsc faults (PR_TSC_SIGSEGV) for the sentry to answer with a sandbox counter.
    public var trapTSC = false
    /// Written to /proc/self/oom_score_adj before the root changes (process.oomScoreAdj).
    public var oomScoreAdj: Int32?
    /// process.noNewPrivileges: set PR_SET_NO_NEW_PRIVS (false: setuid and file capabilities work, as runc).
    public var noNewPrivileges = true
    /// Existing namespaces to join by path (CLONE_NEW* type, path), before the new ones are made.
    public var joinNamespaces: [(type: UInt, path: String)] = []
    /// An overlay over the root: the bundle stays untouched, changes go to the upper layer.
    public var overlay: Overlay?
    /// The sandbox's user namespace and its id maps: a new one (rootless, or
    /// linux.uidMappings), or one joined by path (then also in `joinNamespaces`).
    public var userNamespace: UserNamespace?

    public struct UserNamespace: Sendable, Equatable {
        /// /proc/<pid>/uid_map and gid_map texts: "inside outside count" lines.
        public var uidMap: String
        public var gidMap: String
        /// setgroups must be denied before a gid map can be written without CAP_SETGID.
        public var denySetgroups: Bool
        /// Joined by this path, not made: its maps were read, not written.
        public var path: String?
        public init(uidMap: String, gidMap: String, denySetgroups: Bool, path: String? = nil) {
            self.uidMap = uidMap
            self.gidMap = gidMap
            self.denySetgroups = denySetgroups
            self.path = path
        }
    }

    public enum Overlay: Sendable, Equatable {
        /// The upper layer is a tmpfs (mounted on this empty host directory, visible only to the sandbox).
        case memory(mountPoint: String)
        /// The upper layer lives in `upper`/upper on disk and stays after the run.
        case directory(String)
    }

    public init(rootfs: String) {
        self.rootfs = rootfs
    }
}

/// Why the child failed before execve, as it reported through the error pipe.
public struct ChildFailure: Sendable, Equatable {
    public enum Stage: Int32, Sendable {
        case sync = 1, mount, devices, mask, pivot, hostname, rlimit, capabilities, user, cwd, seccomp, exec, sysctl, terminal, overlay
        case oomScore, namespace
    }
    public var stage: Stage
    public var errno: Errno
    public var index: Int
}

/// A cloned child waiting for `release()` to load its filter and exec.
public struct SpawnedChild: Sendable {
    public let pid: HostTid
    let errorFD: Int32
    let releaseFD: Int32
    /// With `wantListener`: where the child sends its seccomp listener.
    public let listenerSocket: Int32?

    /// Lets the child go on: call after the tracer has seized it.
    public func release() {
        var byte: UInt8 = 1
        _ = write(releaseFD, &byte, 1)
        close(releaseFD)
    }

    /// Lets a child spawned with `filterAtRelease` go on with this filter.
    /// A child that has gone away meanwhile reports it through its exit.
    public func release(filter: SeccompProgram) {
        _ = moat_release_with_filter(releaseFD, filter.instructions, filter.instructions.count)
        close(releaseFD)
    }

    /// Blocks until the child is set up and waits for `release()` (nil), or
    /// has failed (what it reported). Call after the tracer has seized it.
    public func waitUntilReady() -> ChildFailure? {
        switch nextReport() {
        case .ready: nil
        case .failed(let failure): failure
        case .mounted, .none: ChildFailure(stage: .sync, errno: .noSuchProcess, index: -1)
        }
    }

    /// With `pauseBeforePivot`: blocks until the child has made its mounts
    /// and waits before pivot_root for `proceed()` (nil), or has failed.
    public func waitUntilMounted() -> ChildFailure? {
        switch nextReport() {
        case .mounted: nil
        case .failed(let failure): failure
        case .ready, .none: ChildFailure(stage: .sync, errno: .noSuchProcess, index: -1)
        }
    }

    /// Lets a child paused before pivot_root go on.
    public func proceed() {
        var byte: UInt8 = 1
        _ = write(releaseFD, &byte, 1)
    }

    /// After the child exited without exec: what it reported, if anything.
    public func failure() -> ChildFailure? {
        while let report = nextReport() {
            if case .failed(let failure) = report { return failure }
        }
        return nil
    }

    private enum Report { case ready, mounted, failed(ChildFailure) }

    private func nextReport() -> Report? {
        var report = moat_child_error()
        let got = read(errorFD, &report, MemoryLayout<moat_child_error>.size)
        guard got == MemoryLayout<moat_child_error>.size else { return nil }
        if report.stage == 0 { return report.index == 1 ? .mounted : .ready }
        guard let stage = ChildFailure.Stage(rawValue: report.stage) else { return nil }
        return .failed(ChildFailure(stage: stage, errno: Errno(report.err), index: Int(report.index)))
    }

    public func closeErrorPipe() { close(errorFD) }
}

/// Keeps C copies of strings alive for the duration of one spawn.
private final class CStrings {
    private var owned: [UnsafeMutablePointer<CChar>] = []
    func copy(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        owned.append(p)
        return p
    }
    func array(_ list: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { p[i] = copy(s) }
        p[list.count] = nil
        arrays.append(UnsafeMutableRawPointer(p))
        return p
    }
    private var arrays: [UnsafeMutableRawPointer] = []
    deinit {
        for pointer in owned { free(pointer) }
        for array in arrays { array.deallocate() }
    }
}

public enum Spawner {
    public static var lastCapability: Int32 {
        let fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 40 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &buffer, 16)
        guard n > 0 else { return 40 }
        let text = String(decoding: buffer[..<n], as: UTF8.self).filter { $0.isNumber }
        return Int32(text) ?? 40
    }

    /// Clones the child into its namespaces; it waits for `release()`.
    public static func spawn(_ spec: ChildSpec) throws(Errno) -> SpawnedChild {
        try spawn(spec) { moat_spawn($0, $1) }
    }

    /// A process joining the running sandbox of `initPid` (its namespaces and
    /// root), with `stdio` as fds 0-2; it waits for `release()`.
    /// `console`: with `spec.terminal`, a connected console socket to send the pty master to.
    public static func spawnJoined(
        _ spec: ChildSpec, initPid: HostTid, stdio: [Int32],
        console: Int32 = -1
    ) throws(Errno) -> SpawnedChild {
        precondition(stdio.count == 3, "stdin, stdout and stderr")  // the C side reads four fds
        let fds = stdio + [console]
        return try spawn(spec) { moat_spawn_joined($0, initPid, HostProcfs.descriptor, fds, $1) }
    }

    private static func spawn(
        _ spec: ChildSpec,
        _ call: (UnsafePointer<moat_spawn_config>, UnsafeMutablePointer<moat_spawned>) -> Int32
    )
        throws(Errno) -> SpawnedChild
    {
        let strings = CStrings()
        let mounts = spec.mounts.map { m in
            moat_mount(
                kind: m.kind == .bind ? Int32(MOAT_MOUNT_BIND.rawValue) : Int32(MOAT_MOUNT_FS.rawValue),
                source: strings.copy(m.source), target: strings.copy(m.target),
                fstype: m.fstype.isEmpty ? nil : strings.copy(m.fstype),
                flags: m.flags, remount: m.remountFlags,
                data: m.data.isEmpty ? nil : UnsafeRawPointer(strings.copy(m.data)).assumingMemoryBound(to: CChar.self),
                propagation: m.propagation)
        }
        let limits = spec.rlimits.map { moat_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        let sysctlPaths = strings.array(spec.sysctls.map { "/proc/sys/" + $0.key.split(separator: ".").joined(separator: "/") })
        let sysctlValues = strings.array(spec.sysctls.map(\.value))
        let masked = strings.array(spec.maskedPaths)
        let readonly = strings.array(spec.readonlyPaths)
        let candidates = strings.array(spec.executableCandidates)
        let argv = strings.array(spec.argv)
        let env = strings.array(spec.env)
        let capLast = lastCapability
        let joinPaths = strings.array(spec.joinNamespaces.map(\.path))
        let devices = spec.devices.map {
            moat_device(path: strings.copy($0.path), mode: $0.mode, major: $0.major, minor: $0.minor, uid: $0.uid, gid: $0.gid)
        }
        let joinTypeValues = spec.joinNamespaces.map { Int32(truncatingIfNeeded: $0.type) }
        var spawned = moat_spawned()
        let rc: Int32 = mounts.withUnsafeBufferPointer { mountBuffer in
            joinTypeValues.withUnsafeBufferPointer { joinTypes in
                devices.withUnsafeBufferPointer { deviceBuffer in
                    limits.withUnsafeBufferPointer { limitBuffer in
                        spec.groups.withUnsafeBufferPointer { groupBuffer in
                            (spec.extraFilter?.instructions ?? []).withUnsafeBytes { extra in
                                spec.filter.instructions.withUnsafeBytes { program in
                                    var config = moat_spawn_config()
                                    config.rootfs = UnsafePointer(strings.copy(spec.rootfs))
                                    config.readonly_root = spec.readonlyRoot ? 1 : 0
                                    config.nodev_files = spec.nodevFiles ? 1 : 0
                                    config.root_propagation = spec.rootPropagation
                                    if let user = spec.userNamespace, user.path == nil {
                                        config.uid_map = UnsafePointer(strings.copy(user.uidMap))
                                        config.gid_map = UnsafePointer(strings.copy(user.gidMap))
                                        config.deny_setgroups = user.denySetgroups ? 1 : 0
                                    }
                                    switch spec.overlay {
                                    case .memory(let mountPoint)?:
                                        config.overlay_dir = UnsafePointer(strings.copy(mountPoint))
                                        config.overlay_in_memory = 1
                                    case .directory(let directory)?:
                                        config.overlay_dir = UnsafePointer(strings.copy(directory))
                                    case nil: break
                                    }
                                    config.clone_flags = spec.cloneFlags
                                    config.mounts = mountBuffer.baseAddress
                                    config.nmounts = Int32(mountBuffer.count)
                                    config.default_devices = spec.defaultDevices ? 1 : 0
                                    config.masked_paths = UnsafeRawPointer(masked).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                                    config.nmasked = Int32(spec.maskedPaths.count)
                                    config.readonly_paths = UnsafeRawPointer(readonly).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                                    config.nreadonly = Int32(spec.readonlyPaths.count)
                                    config.hostname = spec.hostname.map { UnsafePointer(strings.copy($0)) }
                                    config.sysctl_paths = UnsafeRawPointer(sysctlPaths).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                                    config.sysctl_values = UnsafeRawPointer(sysctlValues).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                                    config.nsysctls = Int32(spec.sysctls.count)
                                    config.cwd = UnsafePointer(strings.copy(spec.cwd))
                                    config.exec_paths = UnsafeRawPointer(candidates).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                                    config.nexec_paths = Int32(spec.executableCandidates.count)
                                    config.argv = UnsafePointer(argv)
                                    config.envp = UnsafePointer(env)
                                    config.uid = spec.uid
                                    config.gid = spec.gid
                                    config.groups = groupBuffer.baseAddress
                                    config.ngroups = Int32(groupBuffer.count)
                                    config.umask_value = spec.umask ?? -1
                                    config.rlimits = limitBuffer.baseAddress
                                    config.nrlimits = Int32(limitBuffer.count)
                                    config.cap_bounding = spec.capabilities.bounding
                                    config.cap_effective = spec.capabilities.effective
                                    config.cap_permitted = spec.capabilities.permitted
                                    config.cap_inheritable = spec.capabilities.inheritable
                                    config.cap_ambient = spec.capabilities.ambient
                                    config.cap_last = capLast
                                    config.filter = program.baseAddress
                                    config.filter_len = spec.filter.instructions.count
                                    config.want_listener = spec.wantListener ? 1 : 0
                                    config.filter_at_release = spec.filterAtRelease ? 1 : 0
                                    config.terminal = spec.terminal ? 1 : 0
                                    config.console_socket = spec.consoleSocket.map { UnsafePointer(strings.copy($0)) }
                                    config.console_rows = spec.consoleSize?.rows ?? 0
                                    config.console_columns = spec.consoleSize?.columns ?? 0
                                    config.pause_before_pivot = spec.pauseBeforePivot ? 1 : 0
                                    config.no_pivot = spec.noPivot ? 1 : 0
                                    config.preserve_fds = spec.preservedFDs
                                    config.trap_tsc = spec.trapTSC ? 1 : 0
                                    config.keep_new_privs = spec.noNewPrivileges ? 0 : 1
                                    config.oom_score_adj = spec.oomScoreAdj.map { UnsafePointer(strings.copy(String($0))) }
                                    config.join_paths = UnsafeRawPointer(joinPaths).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
                                    config.join_types = joinTypes.baseAddress
                                    config.njoin = Int32(spec.joinNamespaces.count)
                                    config.devices = deviceBuffer.baseAddress
                                    config.ndevices = Int32(spec.devices.count)
                                    config.extra_filter = spec.extraFilter == nil ? nil : extra.baseAddress
                                    config.extra_filter_len = spec.extraFilter?.instructions.count ?? 0
                                    return call(&config, &spawned)
                                }
                            }
                        }
                    }
                }
            }
        }
        if rc < 0 { throw Errno(-rc) }
        return SpawnedChild(
            pid: spawned.pid, errorFD: spawned.error_fd, releaseFD: spawned.release_fd,
            listenerSocket: spec.wantListener && spawned.listener_socket >= 0 ? spawned.listener_socket : nil)
    }
}

public enum SignalForwarding {
    /// From now on SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1/2, SIGWINCH and
    /// SIGCONT sent to the supervisor go to `pid` (the workload's init).
    public static func forward(to pid: HostTid) { moat_forward_signals(pid) }
}

/// A long-lived supervisor process split off from the CLI (`moat create`).
public enum SupervisorProcess {
    public enum Outcome { case ready(pid_t), failed(code: Int32) }

    /// Forks. The child runs `body`, which calls its argument once the
    /// container is created and never returns; the parent returns once that
    /// happened (.ready) or the child exited first (.failed with its code).
    /// The child keeps stdio, `keep` and the ready pipe; every other inherited
    /// fd is closed, so the supervisor holds nothing of its caller's.
    public static func fork(keeping keep: [Int32], _ body: (_ signalReady: () -> Void) -> Never) throws(Errno) -> Outcome {
        var ready: [Int32] = [0, 0]
        guard pipe(&ready) == 0 else { throw Errno.current }
        _ = fcntl(ready[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ready[1], F_SETFD, FD_CLOEXEC)
        let pid = moat_fork()
        if pid < 0 { throw Errno(-pid) }
        if pid == 0 {
            close(ready[0])
            let writeEnd = ready[1]
            // The host /proc this process already opened stays (its number is cached).
            let kept = Set(keep + [writeEnd] + HostProcfs.openDescriptors)
            var fd: Int32 = 3
            let highest = Int32(sysconf(Int32(_SC_OPEN_MAX)))
            let last = kept.max() ?? 2
            while fd <= last {
                if !kept.contains(fd) { close(fd) }
                fd += 1
            }
            if last + 1 < highest { moat_close_from(last + 1) }
            // That closed the parent's userfaultfd; fork dropped its registration anyway.
            OwnImage.mapByThePage()
            body {
                var byte: UInt8 = 1
                _ = write(writeEnd, &byte, 1)
                close(writeEnd)
            }
        }
        close(ready[1])
        defer { close(ready[0]) }
        var byte: UInt8 = 0
        if read(ready[0], &byte, 1) == 1 { return .ready(pid) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let code = moat_wifexited(status) != 0 ? moat_wexitstatus(status) : 125
        return .failed(code: code == 0 ? 125 : code)
    }
}
