import CShims
import Glibc

/// A cgroup for one sandbox, for its pids and memory limits: the cgroup v1
/// controllers' hierarchies where they are mounted (this machine kind), else
/// the unified v2 tree.
public final class Cgroup {
    public enum Controller: String, Sendable {
        case pids, memory, cpu, blkio, cpuacct, cpuset
        /// What a container's cgroup holds for engines to read (v1 hierarchies; v2 has one tree).
        public static let accounting: [Controller] = [.pids, .memory, .cpu, .cpuacct, .blkio]
        /// The controller's name in the unified (v2) hierarchy.
        var unifiedName: String { self == .blkio ? "io" : rawValue }
    }

    /// One directory per controller (v1), or the same one for all (v2).
    private var directories: [Controller: String] = [:]
    private let unified: Bool

    /// The cgroup process `pid` (a supervisor) is in, when that is the
    /// container's own (`expected`, its cgroupsPath); nil otherwise: a
    /// supervisor that joined none is in its caller's cgroup, which is never
    /// to be changed or removed. Nothing is created.
    public convenience init?(of pid: pid_t, expected: String, controllers: [Controller]) {
        guard let text = HostFile.read("/proc/\(pid)/cgroup").map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        let wanted = Cgroup.unifiedOnly ? "" : "pids"
        let path = text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[1].split(separator: ",").contains(Substring(wanted)) || (wanted.isEmpty && fields[1].isEmpty)
            else { return nil }
            return String(fields[2])
        }.first
        func normal(_ text: String) -> [Substring] { text.split(separator: "/").filter { $0 != "." && $0 != ".." } }
        guard let path, path != "/", normal(path) == normal(expected) else { return nil }
        try? self.init(path: path, controllers: controllers.filter(Cgroup.available), create: false)
    }

    /// Creates `path` (e.g. "/moat/<id>") for each controller (`create`
    /// false: only takes it, ENOENT where it is missing).
    public init(path: String, controllers: [Controller], create: Bool = true) throws(Errno) {
        let relative = path.split(separator: "/").filter { $0 != ".." && $0 != "." }.map(String.init)
        guard !relative.isEmpty else { throw Errno.invalid }
        unified =
            access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) != 0
            && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
        for controller in controllers {
            let base = unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + controller.rawValue
            guard access(base + "/cgroup.procs", F_OK) == 0 else { throw Errno(ENOTSUP) }
            var current = base
            if !create {
                current += "/" + relative.joined(separator: "/")
                guard access(current, F_OK) == 0 else { throw Errno(ENOENT) }
                directories[controller] = current
                continue
            }
            for part in relative {
                // v2 only lets a child use a controller its parent delegates.
                if unified { _ = Cgroup.write("+" + controller.unifiedName, to: current + "/cgroup.subtree_control") }
                let parent = current
                current += "/" + part
                if mkdir(current, 0o755) != 0 && errno != EEXIST { throw Errno.current }
                // A new v1 cpuset level is empty (no task could join it): it takes its parent's.
                if controller == .cpuset && !unified {
                    for file in ["cpuset.cpus", "cpuset.mems"] {
                        let own = HostFile.read(current + "/" + file) ?? []
                        if own.allSatisfy({ $0 == 10 }), let inherited = HostFile.read(parent + "/" + file) {
                            _ = Cgroup.write(String(decoding: inherited, as: UTF8.self), to: current + "/" + file)
                        }
                    }
                }
            }
            directories[controller] = current
        }
    }

    public func limitPids(_ maximum: Int64) throws(Errno) {
        try set(.pids, "pids.max", String(maximum))
    }

    /// Hard memory limit in bytes; the kernel's OOM killer acts inside the
    /// sandbox. `swap` is the runtime-spec's memory+swap limit (-1:
    /// unlimited, nil: no swap on v2, v1's default on v1).
    public func limitMemory(_ bytes: Int64, swap: Int64? = nil) throws(Errno) {
        try set(.memory, unified ? "memory.max" : "memory.limit_in_bytes", String(bytes))
        if unified {
            let swapMax = swap.map { $0 < 0 ? "max" : String(max($0 - bytes, 0)) } ?? "0"
            // Without swap accounting (no memory.swap.max) only an unlimited or absent swap is honoured.
            if !Cgroup.write(swapMax, to: directories[.memory]! + "/memory.swap.max"), swap != nil, swap! >= 0 {
                throw Errno.current
            }
        } else if let swap {
            try set(.memory, "memory.memsw.limit_in_bytes", String(swap < 0 ? -1 : swap))
        }
    }

    /// A soft limit: under memory pressure the sandbox is reclaimed down to it first.
    public func reserveMemory(_ bytes: Int64) throws(Errno) {
        try set(.memory, unified ? "memory.low" : "memory.soft_limit_in_bytes", String(bytes))
    }

    /// Tasks over the limit wait for memory instead of being killed (v1 only).
    public func disableOOMKiller() throws(Errno) {
        guard !unified else { throw Errno(ENOTSUP) }
        try set(.memory, "memory.oom_control", "1")
    }

    /// The CPUs and memory nodes the sandbox may use (cpuset lists). On v1 a
    /// new cpuset is empty, so each is copied from the parent unless given.
    public func restrictCPUs(cpus: String?, mems: String?) throws(Errno) {
        guard let directory = directories[.cpuset] else { throw Errno.invalid }
        let parent = String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
        for (file, value) in [("cpuset.cpus", cpus), ("cpuset.mems", mems)] {
            let inherited = HostFile.read(parent + "/" + (unified ? file + ".effective" : file))
                .flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").first.map(String.init) }
            guard let chosen = value ?? (unified ? nil : inherited) else { continue }
            try set(.cpuset, file, chosen)
        }
    }

    /// Proportional I/O weight (runtime-spec 10...1000).
    public func setBlockIOWeight(_ weight: UInt16) throws(Errno) {
        if unified { return try set(.blkio, "io.weight", "default \(weight)") }
        do { try set(.blkio, "blkio.weight", String(weight)) } catch { try set(.blkio, "blkio.bfq.weight", String(weight)) }
    }

    /// Whether this host's cgroups can hold an I/O weight (the block layer's
    /// scheduler must have weights: BFQ, or CFQ on old kernels).
    public static var supportsBlockIOWeight: Bool {
        unifiedOnly
            ? controllersAvailable.contains("io")
            : access("/sys/fs/cgroup/blkio/blkio.weight", F_OK) == 0 || access("/sys/fs/cgroup/blkio/blkio.bfq.weight", F_OK) == 0
    }

    /// Whether the memory controller accounts swap (v1 memsw, v2 memory.swap.max).
    public static var supportsSwapLimit: Bool {
        unifiedOnly || access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0
    }

    /// Whether cgroups are v2 only (no v1 controller hierarchies).
    public static var unifiedOnly: Bool {
        access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) != 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0
    }

    static var controllersAvailable: [String] {
        HostFile.read("/sys/fs/cgroup/cgroup.controllers").map {
            String(decoding: $0, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        } ?? []
    }

    /// CPU weight (runtime-spec shares, 2...262144) and a CFS quota per period (µs).
    public func limitCPU(shares: UInt64?, quota: Int64?, period: UInt64?) throws(Errno) {
        if let shares {
            if unified {
                let weight = 1 + ((max(shares, 2) - 2) * 9999) / 262142
                try set(.cpu, "cpu.weight", String(weight))
            } else {
                try set(.cpu, "cpu.shares", String(shares))
            }
        }
        if quota != nil || period != nil {
            let periodValue = period ?? 100_000
            if unified {
                try set(.cpu, "cpu.max", (quota.map { $0 > 0 ? String($0) : "max" } ?? "max") + " \(periodValue)")
            } else {
                try set(.cpu, "cpu.cfs_period_us", String(periodValue))
                if let quota { try set(.cpu, "cpu.cfs_quota_us", String(quota > 0 ? quota : -1)) }
            }
        }
    }

    /// Bytes of memory the sandbox uses now (nil without the memory controller).
    public var memoryUsage: Int64? {
        guard let directory = directories[.memory],
            let bytes = HostFile.read(directory + (unified ? "/memory.current" : "/memory.usage_in_bytes"))
        else { return nil }
        return Int64(String(decoding: bytes.filter { (48...57).contains($0) }, as: UTF8.self))
    }

    /// Whether this host has the controller (a v1 hierarchy, or v2 at all).
    public static func available(_ controller: Controller) -> Bool {
        if unifiedOnly { return controller != .cpuacct }
        return access("/sys/fs/cgroup/\(controller.rawValue)/cgroup.procs", F_OK) == 0
    }

    /// Where this process was before `addSupervisor`, per directory it joined.
    private var supervisorOrigins: [String: String] = [:]

    /// Moves this process (the supervisor) in, remembering where it was so
    /// that `remove` can move it back out first.
    public func addSupervisor() throws(Errno) {
        let own = HostFile.read("/proc/self/cgroup").map { String(decoding: $0, as: UTF8.self) } ?? ""
        for (controller, directory) in directories where supervisorOrigins[directory] == nil {
            // "N:controllers:/path" (v1), "0::/path" (v2).
            let name = unified ? "" : controller.rawValue
            let origin =
                own.split(separator: "\n").compactMap { line -> String? in
                    let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                    guard fields.count == 3, fields[1].split(separator: ",").map(String.init).contains(name) || (unified && fields[1].isEmpty)
                    else { return nil }
                    return String(fields[2])
                }.first ?? "/"
            let base = unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/" + controller.rawValue
            supervisorOrigins[directory] = base + (origin == "/" ? "" : origin)
            guard Cgroup.write(String(getpid()), to: directory + "/cgroup.procs") else { throw Errno.current }
        }
    }

    /// Moves the calling thread (a serving thread of the supervisor) out of
    /// the container's pids cgroup, back where the supervisor was, so that
    /// the config's pids limit counts the container's tasks and not how
    /// many calls the sentry serves at once. Cgroup v1 lets a thread be
    /// elsewhere than its process; v2 keeps them together (there they count).
    public func moveThreadOutOfPids() {
        guard !unified, let directory = directories[.pids], let origin = supervisorOrigins[directory] else { return }
        _ = Cgroup.write(String(moat_gettid()), to: origin + "/tasks")
    }

    /// Removes the cgroup of a container whose tasks are dying (killed):
    /// rmdir succeeds once the last one is gone; gives up after a second.
    public func removeOnceEmpty() {
        for _ in 0..<100 {
            remove()
            if directories.values.allSatisfy({ access($0, F_OK) != 0 }) { return }
            usleep(10_000)
        }
    }

    /// Moves a process in; its future children are born inside.
    public func add(_ pid: pid_t) throws(Errno) {
        for directory in Set(directories.values) where !Cgroup.write(String(pid), to: directory + "/cgroup.procs") {
            throw Errno.current
        }
    }

    /// Removes the cgroup once empty (after the sandbox's last task), the
    /// supervisor moved back to where it was first.
    public func remove() {
        for origin in supervisorOrigins.values { _ = Cgroup.write(String(getpid()), to: origin + "/cgroup.procs") }
        supervisorOrigins = [:]
        for directory in Set(directories.values) { rmdir(directory) }
    }

    private func set(_ controller: Controller, _ file: String, _ value: String) throws(Errno) {
        guard let directory = directories[controller] else { throw Errno.invalid }
        guard Cgroup.write(value, to: directory + "/" + file) else { throw Errno.current }
    }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
