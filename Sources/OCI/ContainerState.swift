import Glibc
import Platform

/// One container's directory under --root, held with a lock for as long as
/// its supervisor lives. A second supervisor for the same id is refused.
public final class ContainerState {
    public let directory: String
    public let id: String
    let bundle: String
    private let lockFD: Int32

    public static func validate(id: String) throws(ConfigError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+")
        guard !id.isEmpty, id.count <= 1024, !id.hasPrefix("."), id.allSatisfy({ allowed.contains($0) }) else {
            throw ConfigError("container id \"\(id)\": use letters, digits and _ . - + (not starting with a dot)")
        }
    }

    public static func claim(root: String, id: String, bundle: String) throws(ConfigError) -> ContainerState {
        try validate(id: id)
        try makeDirectories(root)
        let directory = root + "/" + id
        if mkdir(directory, 0o711) != 0 && errno != EEXIST {
            throw ConfigError("state directory \(directory): \(Errno.current)")
        }
        let fd = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("state directory \(directory): \(Errno.current)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ConfigError("container \(id) already exists")
        }
        let state = ContainerState(directory: directory, id: id, bundle: bundle, lockFD: fd)
        state.write(status: "creating", pid: nil)
        return state
    }

    private init(directory: String, id: String, bundle: String, lockFD: Int32) {
        self.directory = directory
        self.id = id
        self.bundle = bundle
        self.lockFD = lockFD
    }

    public func running(pid: HostTid) { write(status: "running", pid: pid) }

    /// Removes the directory; the lock goes with the process.
    public func remove() {
        unlink(directory + "/state.json")
        unlink(directory + "/lock")
        rmdir(directory)
        close(lockFD)
    }

    private func write(status: String, pid: HostTid?) {
        var members: [(String, JSON)] = [("ociVersion", .string("1.0.2")), ("id", .string(id)),
                                         ("status", .string(status))]
        if let pid { members.append(("pid", .int(pid))) }
        members.append(("bundle", .string(bundle)))
        let text = JSON.object(members).rendered() + "\n"
        let temporary = directory + "/state.json.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        rename(temporary, directory + "/state.json")
    }

    public static func makeDirectories(_ path: String) throws(ConfigError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o711) != 0 && errno != EEXIST {
                throw ConfigError("state directory \(prefix): \(Errno.current)")
            }
        }
    }
}
