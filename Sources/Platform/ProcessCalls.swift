import CShims
import Glibc

/// The host calls the container lifecycle makes (OCI), over CShims: fds
/// passed over unix sockets, waiting on fds and pidfds, wait statuses,
/// reading another namespace, hooks run inside the sandbox, and the
/// terminal relay. Results that can fail are the value or -errno, as the
/// kernel gives them, unless a comment says otherwise.
public enum ProcessCalls {
    /// The most fds one message carries: stdio and a console socket.
    public static let maxPassedFDs = Int(MOAT_MAX_PASSED_FDS)

    /// Sends `bytes` with `fds` (SCM_RIGHTS) over a unix socket: bytes sent or -errno.
    public static func send(_ socket: Int32, _ bytes: [UInt8], fds: [Int32]) -> Int {
        moat_send_with_fds(socket, bytes, bytes.count, fds, Int32(fds.count))
    }

    /// Receives one message of at most `capacity` bytes and the fds that
    /// came with it; nil at end of stream or on an error.
    public static func receive(_ socket: Int32, capacity: Int) -> (bytes: [UInt8], fds: [Int32])? {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var fds = [Int32](repeating: -1, count: maxPassedFDs)
        let n = moat_receive_with_fds(socket, &buffer, buffer.count, &fds)
        guard n > 0 else { return nil }
        return (Array(buffer[..<n]), fds.filter { $0 >= 0 })
    }

    /// Waits until some of `fds` are readable or `timeoutMs` passes (-1: no
    /// limit): bit i set when fds[i] is. 0 on timeout or error.
    public static func readable(_ fds: [Int32], timeoutMs: Int32) -> Int32 {
        moat_poll_readable(fds, Int32(fds.count), timeoutMs)
    }

    /// A pidfd for `pid` (readable once it exits), or -errno.
    public static func pidfd(_ pid: pid_t) -> Int32 { moat_pidfd_open(pid) }

    /// The pid of the process at the other end of a unix socket, or -errno.
    public static func peerPid(_ socket: Int32) -> pid_t { moat_peer_pid(socket) }

    /// The host name of the UTS namespace at `path` (read by a child that joins it).
    public static func hostname(ofNamespace path: String) throws(Errno) -> String {
        var name = [CChar](repeating: 0, count: 65)
        let rc = moat_namespace_hostname(path, &name, name.count)
        guard rc == 0 else { throw Errno(-rc) }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The uid_map and gid_map of the user namespace at `path` (read by a child that joins it).
    public static func idMaps(ofNamespace path: String) throws(Errno) -> (uidMap: String, gidMap: String) {
        var uidMap = [CChar](repeating: 0, count: 8192)
        var gidMap = [CChar](repeating: 0, count: 8192)
        let rc = moat_namespace_id_maps(path, &uidMap, &gidMap, uidMap.count)
        guard rc == 0 else { throw Errno(-rc) }
        func text(_ chars: [CChar]) -> String { String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return (text(uidMap), text(gidMap))
    }

    /// Runs `path` inside the namespaces of `initPid` with `stdin`: the pid
    /// of a middle process that exits with the program's status (128+N if
    /// killed by signal N). Killing it kills the program.
    public static func runInNamespaces(
        of initPid: pid_t, _ path: String, argv: [UnsafeMutablePointer<CChar>?], envp: [UnsafeMutablePointer<CChar>?], stdin: Int32
    ) throws(Errno) -> pid_t {
        let pid = moat_run_in_namespaces(initPid, HostProcfs.descriptor, path, argv, envp, stdin)
        guard pid > 0 else { throw Errno(-pid) }
        return pid
    }

    /// Relays this process's terminal (`input`, `output`; the input in raw
    /// mode, following its window size) to a pty master on a thread of its own.
    public static func startTerminalRelay(master: Int32, input: Int32, output: Int32) throws(Errno) {
        let rc = moat_terminal_relay_start(master, input, output)
        guard rc == 0 else { throw Errno(-rc) }
    }

    /// Drains the workload's last output, restores the terminal, closes the master.
    public static func finishTerminalRelay() { moat_terminal_relay_finish() }
}

/// What waitpid reported for a child.
public struct WaitStatus: Equatable, Sendable {
    public let raw: Int32
    public init(_ raw: Int32) { self.raw = raw }

    /// The exit code when it exited, nil when a signal ended it.
    public var exitCode: Int32? { moat_wifexited(raw) != 0 ? moat_wexitstatus(raw) : nil }
    /// The signal that ended it, nil when it exited.
    public var signal: Int32? { moat_wifsignaled(raw) != 0 ? moat_wtermsig(raw) : nil }
}
