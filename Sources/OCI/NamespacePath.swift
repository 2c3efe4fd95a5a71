import Glibc
import Platform

/// Where a container that joins a pid or user namespace by path goes.
///
/// Engines name a container's namespaces by the pid its runtime reports:
/// Docker's `--pid=container:X`, a Kubernetes pod's shared process
/// namespace and its user namespace become `/proc/<pid>/ns/pid|user`. For a
/// Moat container that pid is its supervisor's, which lives in the host's
/// pid and user namespaces (only its sandbox is in the container's); the
/// other namespaces follow because the supervisor's main thread enters
/// them, but a process cannot leave its pid namespace, nor enter a user
/// namespace once it has threads. So a path that names a Moat supervisor
/// means its sandbox's namespace: the one of its child that lives in
/// another. The host's own are refused: in its pid namespace the sandbox
/// would see, and could signal, every process of the machine; its user
/// namespace is the one the sandbox leaves by not listing one.
public enum NamespacePath {
    /// `type`: "pid" or "user", as /proc/<pid>/ns/ names them.
    public static func resolve(_ path: String, type: String, field: String) throws(ConfigError) -> String {
        guard let target = namespaceID(path) else { throw ConfigError("linux.namespaces path \(path): \(Errno.current)") }
        guard let host = namespaceID("/proc/self/ns/\(type)"), target == host else { return path }
        if let pid = supervisorPid(path, type: type), let sandboxInit = child(of: pid, outside: host, type: type) {
            return "/proc/\(sandboxInit)/ns/\(type)"
        }
        let why = type == "pid" ? "the sandbox would see every process of the machine" : "leave the user namespace out to run in it"
        throw ConfigError("\(field): the host's \(type) namespace cannot be joined (\(why))")
    }

    /// The pid of `/proc/<pid>/ns/<type>` when that process runs this same moat binary.
    static func supervisorPid(_ path: String, type: String) -> pid_t? {
        let parts = path.split(separator: "/")
        guard parts.count == 4, parts[0] == "proc", parts[2] == "ns", parts[3] == type, let pid = pid_t(parts[1]) else {
            return nil
        }
        var theirs = stat()
        var ours = stat()
        guard stat("/proc/\(pid)/exe", &theirs) == 0, stat("/proc/self/exe", &ours) == 0,
            theirs.st_dev == ours.st_dev, theirs.st_ino == ours.st_ino
        else { return nil }
        return pid
    }

    /// A child of `pid` (any of its threads) in a namespace of `type` other than the host's: its sandbox's init.
    static func child(of pid: pid_t, outside host: NamespaceID, type: String) -> pid_t? {
        guard let tasks = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(tasks) }
        while let entry = readdir(tasks) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard pid_t(tid) != nil, let children = HostProcfs.read("\(pid)/task/\(tid)/children") else { continue }
            for child in String(decoding: children, as: UTF8.self).split(separator: " ").compactMap({ pid_t($0) }) {
                if let theirs = namespaceID("/proc/\(child)/ns/\(type)"), theirs != host { return child }
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
