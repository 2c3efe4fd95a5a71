import CShims
import Glibc

/// The host's /proc as the supervisor reaches it. A detached supervisor
/// shows the sandbox's own /proc at its /proc (see `showSandboxProc`) and
/// keeps the host's through a descriptor opened before the switch.
public enum HostProcfs {
    /// -1 until the switch: then "/proc" is the host's.
    nonisolated(unsafe) public private(set) static var descriptor: Int32 = -1

    /// A descriptor of the host's /proc, for calls relative to it: the one
    /// kept at the switch, or /proc opened once (before any switch).
    public static var directory: Int32 {
        if descriptor >= 0 { return descriptor }
        if opened < 0 { opened = Glibc.open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        return opened
    }
    nonisolated(unsafe) private static var opened: Int32 = -1

    /// The descriptors this process holds of /proc, which closing every fd must spare.
    static var openDescriptors: [Int32] { [descriptor, opened].filter { $0 >= 0 } }

    public static func open(_ relative: String, _ flags: Int32) -> Int32 {
        openat(directory, relative, flags)
    }

    public static func read(_ relative: String) -> [UInt8]? {
        let fd = open(relative, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return HostFile.readAll(fd)
    }

    /// The text of a symlink under /proc (a tracee's cwd, fd/N, exe), or nil.
    public static func readLink(_ relative: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let n = buffer.withUnsafeMutableBytes { readlinkat(directory, relative, $0.baseAddress!, $0.count) }
        return n < 0 ? nil : Array(buffer[..<n])
    }

    public static func exists(_ relative: String) -> Bool {
        faccessat(directory, relative, F_OK, 0) == 0
    }

    /// Gives this process a mount namespace of its own whose /proc is the
    /// sandbox's, so that tools which join the mount namespace of the pid
    /// they hold (podman top) list the container's processes, not the host's.
    /// Call once, single-threaded, after the sandbox's /proc is mounted.
    public static func showSandboxProc(initPid: HostTid) throws(Errno) {
        let fd = moat_show_sandbox_proc(initPid)
        guard fd >= 0 else { throw Errno(-fd) }
        descriptor = fd
    }
}
