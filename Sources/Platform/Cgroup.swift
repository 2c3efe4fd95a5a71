import Glibc

/// A cgroup for one sandbox, used for the pids limit. cgroup v1's pids
/// controller when mounted (this machine kind), else the unified v2 tree.
public final class Cgroup {
    public let directory: String

    /// Creates `path` (e.g. "/moat/<id>") under the pids hierarchy.
    public init(path: String) throws(Errno) {
        let relative = path.split(separator: "/").filter { $0 != ".." && $0 != "." }.joined(separator: "/")
        guard !relative.isEmpty else { throw Errno.invalid }
        let v1 = "/sys/fs/cgroup/pids"
        let base: String
        if access(v1 + "/cgroup.procs", F_OK) == 0 {
            base = v1
        } else if access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 {
            base = "/sys/fs/cgroup"
        } else {
            throw Errno(ENOTSUP)
        }
        var current = base
        for part in relative.split(separator: "/") {
            // v2 only lets a child limit pids when its parent delegates the controller.
            if base != v1 { _ = Cgroup.write("+pids", to: current + "/cgroup.subtree_control") }
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw Errno.current }
        }
        directory = current
    }

    public func limitPids(_ maximum: Int64) throws(Errno) {
        guard Cgroup.write(String(maximum), to: directory + "/pids.max") else { throw Errno.current }
    }

    /// Moves a process in; its future children are born inside.
    public func add(_ pid: pid_t) throws(Errno) {
        guard Cgroup.write(String(pid), to: directory + "/cgroup.procs") else { throw Errno.current }
    }

    /// Removes the cgroup once empty (after the sandbox's last task).
    public func remove() { rmdir(directory) }

    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } == text.utf8.count
    }
}
