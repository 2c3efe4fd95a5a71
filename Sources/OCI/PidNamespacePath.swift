import Glibc
import Platform

/// Where a container that joins a pid namespace by path goes.
///
/// Engines name a container's namespaces by the pid its runtime reports:
/// Docker's `--pid=container:X` and a Kubernetes pod's shared process
/// namespace become `/proc/<pid>/ns/pid`. For a Moat container that pid is
/// its supervisor's, which lives in the host's pid namespace (only its
/// sandbox is in the container's); the other namespaces follow because the
/// supervisor's main thread enters them, but the kernel shows a process's
/// own pid namespace there, which a process cannot leave. So a path that
/// names a Moat supervisor means its sandbox's pid namespace: the one of its
/// child that lives in another. The host's own pid namespace is refused:
/// the sandbox would see, and could signal, every process of the machine.
public enum PidNamespacePath {
    public static func resolve(_ path: String, field: String) throws(ConfigError) -> String {
        guard let target = namespaceID(path) else { throw ConfigError("linux.namespaces path \(path): \(Errno.current)") }
        guard let host = namespaceID("/proc/self/ns/pid"), target == host else { return path }
        if let pid = supervisorPid(path), let sandboxInit = childInOtherPidNamespace(of: pid, host: host) {
            return "/proc/\(sandboxInit)/ns/pid"
        }
        throw ConfigError("\(field): the host's pid namespace cannot be joined (the sandbox would see every process of the machine)")
    }

    /// The pid of `/proc/<pid>/ns/pid` when that process runs this same moat binary.
    static func supervisorPid(_ path: String) -> pid_t? {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "proc", parts[2] == "ns", parts[3] == "pid", let pid = pid_t(parts[1]) else {
            return nil
        }
        var theirs = stat(), ours = stat()
        guard stat("/proc/\(pid)/exe", &theirs) == 0, stat("/proc/self/exe", &ours) == 0,
              theirs.st_dev == ours.st_dev, theirs.st_ino == ours.st_ino else { return nil }
        return pid
    }

    /// A child of `pid` (any of its threads) in a pid namespace other than the host's: its sandbox's init.
    static func childInOtherPidNamespace(of pid: pid_t, host: NamespaceID) -> pid_t? {
        guard let tasks = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(tasks) }
        while let entry = readdir(tasks) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard pid_t(tid) != nil, let children = HostProcfs.read("\(pid)/task/\(tid)/children") else { continue }
            for child in String(decoding: children, as: UTF8.self).split(separator: " ").compactMap({ pid_t($0) }) {
                if let theirs = namespaceID("/proc/\(child)/ns/pid"), theirs != host { return child }
            }
        }
        return nil
    }

    struct NamespaceID: Equatable { var device: UInt, inode: UInt }

    static func namespaceID(_ path: String) -> NamespaceID? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return NamespaceID(device: UInt(st.st_dev), inode: UInt(st.st_ino))
    }
}
