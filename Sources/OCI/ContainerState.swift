import Glibc
import Platform

/// One container's directory under --root: state.json, a lock held by the
/// container's supervisor for as long as it lives, and the supervisor's
/// control socket while the container waits to be started.
public final class ContainerState {
    public let directory: String
    public let id: String
    let bundle: String
    let annotations: [(String, String)]
    private let lockFD: Int32
    /// The lock's fd, which a forked supervisor must keep open.
    public var lockDescriptor: Int32 { lockFD }
    private var supervisorPid: pid_t?
    private var initPid: pid_t?

    public static let stateFile = "state.json"
    public static let controlSocket = "control.sock"
    /// Where `run`'s terminal relay receives the workload's pty.
    public static let consoleSocket = "console.sock"
    /// Where a memory overlay's tmpfs is mounted (inside the sandbox's mount namespace only).
    public static let overlayMountPoint = "overlay"

    public static func validate(id: String) throws(ConfigError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+")
        guard !id.isEmpty, id.count <= 1024, !id.hasPrefix("."), id.allSatisfy({ allowed.contains($0) }) else {
            throw ConfigError("container id \"\(id)\": use letters, digits and _ . - + (not starting with a dot)")
        }
    }

    /// Takes a new id: refused while any container of that id exists, running
    /// or stopped (it must be deleted first), as runc does.
    public static func claim(
        root: String, id: String, bundle: String,
        annotations: [(String, String)] = []
    ) throws(ConfigError) -> ContainerState {
        try validate(id: id)
        try makeDirectories(root)
        let directory = root + "/" + id
        if mkdir(directory, 0o711) != 0 && errno != EEXIST {
            throw ConfigError("state directory \(directory): \(Errno.current)")
        }
        let fd = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("state directory \(directory): \(Errno.current)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, access(directory + "/" + stateFile, F_OK) != 0 else {
            close(fd)
            throw ConfigError("container \(id) already exists")
        }
        let state = ContainerState(directory: directory, id: id, bundle: bundle, annotations: annotations, lockFD: fd)
        do { try state.write(status: .creating) } catch {
            state.remove()
            throw error
        }
        return state
    }

    private init(directory: String, id: String, bundle: String, annotations: [(String, String)], lockFD: Int32) {
        self.directory = directory
        self.id = id
        self.bundle = bundle
        self.annotations = annotations
        self.lockFD = lockFD
    }

    /// The workload exists and waits for `start`; `supervisor` is the pid
    /// engines see (pid file, state), `initPid` the workload's host pid.
    public func created(supervisor: pid_t, initPid: pid_t) throws(ConfigError) {
        supervisorPid = supervisor
        self.initPid = initPid
        try write(status: .created)
    }

    public func running(supervisor: pid_t, initPid: pid_t) throws(ConfigError) {
        supervisorPid = supervisor
        self.initPid = initPid
        try write(status: .running)
    }

    /// The state hooks read on stdin: `pid` is the workload's init, whose
    /// namespaces a hook may enter (a supervisor's pid would be the host's).
    public func hookState(status: ContainerStatus, initPid: pid_t?) -> JSON {
        ContainerState.json(id: id, status: status, pid: initPid, bundle: bundle, annotations: annotations)
    }

    /// The runtime-spec's state object, and what else state.json keeps after it.
    static func json(
        id: String, status: ContainerStatus, pid: pid_t?, bundle: String,
        annotations: [(String, String)], extra: [(String, JSON)] = []
    ) -> JSON {
        var members: [(String, JSON)] = [("ociVersion", .string("1.0.2")), ("id", .string(id)), ("status", .string(status.rawValue))]
        if let pid { members.append(("pid", .int(pid))) }
        members.append(("bundle", .string(bundle)))
        if !annotations.isEmpty { members.append(("annotations", .object(annotations.map { ($0.0, .string($0.1)) }))) }
        return .object(members + extra)
    }

    /// If this cannot be written (a full disk), readers still see the
    /// container stopped: its supervisor's lock is gone.
    public func stopped(exitCode: Int32) { try? write(status: .stopped, exitCode: exitCode) }

    /// Removes the directory (run without --keep, or a failed create).
    public func remove() {
        ContainerState.removeDirectory(directory)
        close(lockFD)
    }

    /// Everything a container's directory may hold, then the directory.
    static func removeDirectory(_ directory: String) {
        for name in [stateFile, stateFile + ".tmp", controlSocket, consoleSocket, ContainerInfo.pausedMarker, "lock"] {
            unlink(directory + "/" + name)
        }
        rmdir(directory + "/" + overlayMountPoint)
        rmdir(directory)
    }

    /// Replaces state.json atomically; a failure (ENOSPC, EIO) names the file.
    private func write(status: ContainerStatus, exitCode: Int32? = nil) throws(ConfigError) {
        var extra: [(String, JSON)] = []
        if let initPid { extra.append(("initPid", .int(initPid))) }
        if let exitCode { extra.append(("exitCode", .int(exitCode))) }
        let json = ContainerState.json(id: id, status: status, pid: supervisorPid, bundle: bundle, annotations: annotations, extra: extra)
        let text = json.rendered() + "\n"
        let temporary = directory + "/" + ContainerState.stateFile + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot write \(temporary): \(Errno.current)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let writeError = Errno.current
        close(fd)
        guard written == bytes.count else {
            unlink(temporary)
            throw ConfigError("cannot write \(temporary): \(written < 0 ? writeError : Errno(ENOSPC))")
        }
        guard rename(temporary, directory + "/" + ContainerState.stateFile) == 0 else {
            let error = Errno.current
            unlink(temporary)
            throw ConfigError("cannot write \(directory)/\(ContainerState.stateFile): \(error)")
        }
    }

    public static func makeDirectories(_ path: String) throws(ConfigError) {
        if let failed = HostFile.makeDirectories(path, mode: 0o711) {
            throw ConfigError("state directory \(failed.path): \(failed.error)")
        }
    }
}

/// A container as another `moat` command sees it: what state.json says,
/// corrected by whether its supervisor still holds the lock.
public struct ContainerInfo: Sendable {
    public let id: String
    public let directory: String
    public let status: ContainerStatus
    public let pid: pid_t?
    public let initPid: pid_t?
    public let bundle: String
    public let exitCode: Int32?
    public let annotations: [(String, String)]
    /// The supervisor lives (it holds the lock).
    public let supervised: Bool
    /// Why state.json could not be read (then the status is unknown while a
    /// supervisor lives, stopped once none does, and `pid` the supervisor's).
    public var corruption: String?

    public static func load(root: String, id: String) throws(ConfigError) -> ContainerInfo {
        try ContainerState.validate(id: id)
        let directory = root + "/" + id
        guard let bytes = HostFile.read(directory + "/" + ContainerState.stateFile) else {
            throw ConfigError("container \(id) does not exist")
        }
        var supervised = false
        let fd = open(directory + "/lock", O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { flock(fd, LOCK_UN) } else { supervised = errno == EWOULDBLOCK }
            close(fd)
        }
        let record: StateRecord
        do { record = try StateRecord.decode(bytes) } catch {
            // Still a container: `delete --force` must be able to end it.
            var info = ContainerInfo(
                id: id, directory: directory, status: supervised ? .unknown : .stopped,
                pid: supervised ? supervisorPid(directory) : nil, initPid: nil, bundle: "",
                exitCode: nil, annotations: [], supervised: supervised)
            info.corruption = "corrupt state file: \(error)"
            return info
        }
        // A supervisor that died without writing "stopped" leaves a stopped container.
        var recorded = record.status.map(ContainerStatus.init(recorded:)) ?? .stopped
        if recorded == .running && access(directory + "/" + pausedMarker, F_OK) == 0 { recorded = .paused }
        return ContainerInfo(
            id: id, directory: directory, status: supervised ? recorded : .stopped,
            pid: record.pid, initPid: record.initPid, bundle: record.bundle ?? "",
            exitCode: record.exitCode, annotations: record.annotations, supervised: supervised)
    }

    static let pausedMarker = "paused"

    /// The supervisor's pid, from the credentials of its control socket
    /// (SO_PEERCRED: the process that listens on it).
    static func supervisorPid(_ directory: String) -> pid_t? {
        guard let fd = try? ControlSocket.connect(directory + "/" + ContainerState.controlSocket) else { return nil }
        defer { close(fd) }
        let pid = ProcessCalls.peerPid(fd)
        return pid > 0 ? pid : nil
    }

    /// pause/resume record themselves next to state.json (the supervisor owns that file).
    public static func markPaused(root: String, id: String, _ paused: Bool) {
        let path = root + "/" + id + "/" + pausedMarker
        if paused { close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)) } else { unlink(path) }
    }

    /// Every container under `root`, by id.
    public static func all(root: String) -> [ContainerInfo] {
        guard let dir = opendir(root) else { return [] }
        defer { closedir(dir) }
        var found: [ContainerInfo] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name.hasPrefix(".") { continue }
            if let info = try? load(root: root, id: name) { found.append(info) }
        }
        return found.sorted { $0.id < $1.id }
    }

    /// The runtime-spec state: what `moat state` prints.
    public var specState: JSON {
        ContainerState.json(id: id, status: status, pid: status == .stopped ? nil : pid, bundle: bundle, annotations: annotations)
    }

    /// Removes a stopped container's directory.
    public func remove() { ContainerState.removeDirectory(directory) }
}
