import CShims
import Glibc
import Platform

/// Files the sentry renders itself instead of the kernel's, so that /proc
/// agrees with what the sentry answers elsewhere: the uptime of the sandbox
/// (its CLOCK_BOOTTIME), uname's release and names, and, when the config
/// sets a memory limit, /proc/meminfo with that limit (as sysinfo).
extension Kernel {
    /// Files under /proc/<pid>/ that Linux gives only to a process that may
    /// ptrace the target (PTRACE_MODE_READ or ATTACH).
    static let ptraceGuarded: Set<String> = [
        "environ", "auxv", "mem", "maps", "smaps", "smaps_rollup", "numa_maps", "pagemap", "stack", "syscall",
        "personality", "io", "fd", "fdinfo", "map_files", "cwd", "root", "exe", "ns", "wchan", "timers",
        "timerslack_ns", "clear_refs",
    ]
    static let capSysPtrace: UInt64 = 1 << 19

    /// The sentry opens /proc files as a supervisor that keeps CAP_SYS_PTRACE
    /// for its own work, so it makes Linux's check itself: another process's
    /// guarded file needs CAP_SYS_PTRACE, or the same uids and gids. EACCES otherwise.
    func checkProcAccess(_ fd: Int32, _ task: Task, _ credentials: Credentials) throws(Errno) {
        guard let files, FileSystem.onProcfs(fd), let shown = HostProcfs.readLink("self/fd/\(fd)") else { return }
        let parts = FileSystem.components(shown)
        guard parts.count > files.procMount.count + 1, Array(parts.prefix(files.procMount.count)) == files.procMount else { return }
        var rest = parts.dropFirst(files.procMount.count).map { String(decoding: $0, as: UTF8.self) }
        guard let vpid = Int32(rest[0]), vpid != task.group.vpid else { return }
        // /proc/<pid>/task/<tid>/...: the file's name comes after the tid.
        if rest.count > 3, rest[1] == "task" { rest.removeSubrange(1...2) }
        guard rest.count > 1, Kernel.ptraceGuarded.contains(rest[1]) else { return }
        if credentials.effective & Kernel.capSysPtrace != 0 { return }
        guard let target = pids.group(vpid: vpid), let theirs = try? Credentials.of(target.hostTgid),
              theirs.uids.allSatisfy({ $0 == credentials.fsUID }), theirs.gids.allSatisfy({ $0 == credentials.fsGID }) else {
            throw Errno(EACCES)
        }
    }

    /// The descriptor to donate in place of `fd` (which it then closes), or
    /// nil to donate `fd`. Only files opened for reading are rendered.
    func synthesized(_ fd: Int32, flags: Int32) throws(Errno) -> Int32? {
        guard flags & O_ACCMODE == O_RDONLY, let files, FileSystem.onProcfs(fd),
              let shown = HostProcfs.readLink("self/fd/\(fd)") else { return nil }
        let procPath = FileSystem.joined(files.procMount)
        guard shown.count > procPath.count + 1, Array(shown.prefix(procPath.count)) == procPath,
              let text = render(String(decoding: shown.dropFirst(procPath.count + 1), as: UTF8.self)) else { return nil }
        let created = moat_memfd("proc")
        guard created >= 0 else { throw Errno(Int32(-created)) }
        let memfd = Int32(created)
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ pwrite(memfd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            close(memfd)
            throw Errno.current
        }
        close(fd)
        return memfd
    }

    /// The text of a rendered file, by its path under /proc; nil for the kernel's own.
    func render(_ path: String) -> String? {
        switch path {
        case "meminfo":
            guard let limit = spec.memoryLimit else { return nil }
            let used = cgroup?.memoryUsage ?? 0
            return Kernel.meminfo(limitKiB: limit / 1024, usedKiB: min(used, limit) / 1024)
        case "uptime":
            let seconds = Double(clocks.now(CLOCK_BOOTTIME)) / 1e9
            let idle = seconds * Double(max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1))
            return Kernel.hundredths(seconds) + " " + Kernel.hundredths(idle) + "\n"
        case "version": return "Linux version \(Identity.release) (moat@moat) \(Identity.version)\n"
        case "sys/kernel/osrelease": return Identity.release + "\n"
        case "sys/kernel/hostname": return hostname + "\n"
        case "sys/kernel/domainname": return domainname + "\n"
        default: return nil
        }
    }

    /// "12.34": as /proc/uptime prints seconds.
    static func hundredths(_ value: Double) -> String {
        let total = Int((value * 100).rounded())
        let fraction = total % 100
        return "\(total / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    static func meminfo(limitKiB: Int64, usedKiB: Int64) -> String {
        let free = limitKiB - usedKiB
        let rows: [(String, Int64)] = [
            ("MemTotal", limitKiB), ("MemFree", free), ("MemAvailable", free), ("Buffers", 0), ("Cached", 0),
            ("SwapCached", 0), ("Active", usedKiB), ("Inactive", 0), ("SwapTotal", 0), ("SwapFree", 0),
            ("Dirty", 0), ("Writeback", 0), ("AnonPages", usedKiB), ("Mapped", 0), ("Shmem", 0),
        ]
        return rows.map { name, value in
            let label = name + ":"
            let number = String(value)
            return label + String(repeating: " ", count: max(1, 24 - label.count - number.count)) + number + " kB\n"
        }.joined()
    }
}
