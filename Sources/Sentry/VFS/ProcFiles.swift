import Glibc
import Platform

/// What the sentry checks in a file it opened for a caller: device nodes
/// against the device rules (VFS/DeviceAccess), /dev/tty, and
/// a terminal opened without O_NOCTTY, are left to the caller, and for the kernel's procfs it adds:
/// - ptrace access: another process's guarded files (environ, mem, fd, cwd
///   ...) need CAP_SYS_PTRACE or the same ids; the supervisor keeps
///   CAP_SYS_PTRACE for its own work, so the kernel's check would pass;
/// - /proc/sys: only the sandbox's own namespaced keys (net, ipc, uts, mqueue)
///   may be opened for writing, whatever the config mounts; the rest is
///   EROFS, as OCI's default read-only /proc/sys gives (kernel.core_pattern
///   and the like act on the host), and so is /proc/sysrq-trigger;
/// - rendered files, so that /proc agrees with what the sentry answers
///   elsewhere: the sandbox's uptime, uname's release and names, and, with a
///   memory limit, meminfo (as sysinfo).
extension Kernel {
    /// Files under /proc/<pid>/ that Linux gives only to a process that may
    /// ptrace the target (PTRACE_MODE_READ or ATTACH).
    static let ptraceGuarded: Set<String> = [
        "environ", "auxv", "mem", "maps", "smaps", "smaps_rollup", "numa_maps", "pagemap", "stack", "syscall",
        "personality", "io", "fd", "fdinfo", "map_files", "cwd", "root", "exe", "ns", "wchan", "timers",
        "timerslack_ns", "clear_refs"
    ]
    static let capSysPtrace: UInt64 = 1 << 19
    /// /proc/sys keys that belong to the sandbox's own namespaces.
    static let namespacedSysctls: [(prefix: String, namespace: UInt)] = [
        ("sys/net/", Linux.cloneNewNet), ("sys/fs/mqueue/", Linux.cloneNewIPC), ("sys/kernel/hostname", Linux.cloneNewUTS),
        ("sys/kernel/domainname", Linux.cloneNewUTS), ("sys/kernel/shm", Linux.cloneNewIPC),
        ("sys/kernel/msg", Linux.cloneNewIPC), ("sys/kernel/sem", Linux.cloneNewIPC)
    ]

    /// The device number of /dev/tty (5, 0).
    static let controllingTTY = dev_t(5 << 8)

    /// A terminal a session leader's open (without O_NOCTTY) makes its
    /// controlling one: pty replicas (majors 136-143), virtual consoles and
    /// serial ttys (4), /dev/console (5, 1). The kernel gives it to whoever
    /// opens it, so the caller opens it itself, in the pivoted root.
    static func isTerminal(_ device: dev_t) -> Bool {
        let (major, minor) = DeviceRule.numbers(device)
        return (136...143).contains(major) || major == 4 || (major == 5 && minor == 1)
    }

    /// What to donate for `fd`, just opened for `task` with `flags` (one
    /// fstat decides what it is): `fd` itself, or a rendered file in its
    /// place (`fd` then closed); nil when the caller must open it itself
    /// (/dev/tty names its opener's terminal: opened by the supervisor it
    /// would be the supervisor's); or an errno (`fd` then closed).
    func vetOpened(_ fd: Int32, flags: Int32, _ task: Task, _ credentials: Credentials) throws(Errno) -> Int32? {
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else {
            let error = Errno.current
            close(fd)
            throw error
        }
        // Before the terminal check: a host console planted in the image is refused, not left to the caller.
        guard DeviceRule.allows(spec.deviceRules, mode: info.st_mode, device: info.st_rdev, flags: flags) else {
            close(fd)
            throw .notPermitted
        }
        if info.st_mode & S_IFMT == S_IFCHR
            && (info.st_rdev == Kernel.controllingTTY || (flags & O_NOCTTY == 0 && Kernel.isTerminal(info.st_rdev)))
        {
            close(fd)
            return nil
        }
        guard files?.onProcfs(info) == true, let rest = procComponents(fd) else { return fd }
        do throws(Errno) {
            try checkPtraceAccess(rest, task, credentials)
            let relative = rest.joined(separator: "/")
            // (Keys are the sandbox's only when their namespace is its own, not
            // inherited or joined.) sysrq-trigger acts on the host itself: reboot, crash.
            if flags & O_ACCMODE != O_RDONLY,
                relative == "sysrq-trigger"
                    || (relative.hasPrefix("sys/")
                        && !Kernel.namespacedSysctls.contains(where: { relative.hasPrefix($0.prefix) && spec.child.cloneFlags & $0.namespace != 0 }))
            {
                throw Errno(EROFS)
            }
            guard flags & O_ACCMODE == O_RDONLY, let text = render(relative, kernelFile: fd) else { return fd }
            let rendered = try Kernel.memfd(text)
            close(fd)
            return rendered
        } catch {
            close(fd)
            throw error
        }
    }

    /// The path of an fd on the sandbox's procfs, as components after the mount point; nil elsewhere.
    func procComponents(_ fd: Int32) -> [String]? {
        guard let files, let shown = HostProcfs.readLink("self/fd/\(fd)") else { return nil }
        return files.procRelative(FileSystem.components(shown))
    }

    /// /proc/<pid>/<guarded> of another process: the kernel's ptrace access
    /// check (the same ids, a dumpable target, its capabilities a subset of
    /// the caller's; or CAP_SYS_PTRACE), made for the caller's credentials,
    /// which this thread holds, by opening the target's environ (read
    /// access) or mem (attach) without the supervisor's CAP_SYS_PTRACE.
    func checkPtraceAccess(_ rest: [String], _ task: Task, _ credentials: Credentials) throws(Errno) {
        guard let vpid = Int32(rest[0]), vpid != task.group.vpid else { return }
        var rest = rest
        // /proc/<pid>/task/<tid>/...: the file's name comes after the tid.
        if rest.count > 3, rest[1] == "task" { rest.removeSubrange(1...2) }
        guard rest.count > 1, Kernel.ptraceGuarded.contains(rest[1]) else { return }
        if credentials.effective & Kernel.capSysPtrace != 0 { return }
        // A process of a shared pid namespace that is not the sentry's is found by its number there.
        guard
            let target = pids.group(vpid: vpid)?.hostTgid
                ?? (sharesPidNamespace ? HostProc.hostPid(of: vpid, inPidNamespaceOf: task.group.hostTgid) : nil)
        else {
            throw Errno(EACCES)
        }
        let probe = PathCalls.openAsHeld(HostProcfs.directory, "\(target)/\(rest[1] == "mem" ? "mem" : "environ")", flags: O_RDONLY)
        if probe < 0 { throw Errno(-probe == ENOENT ? ESRCH : -probe) }
        close(probe)
    }

    /// A close-on-exec memfd holding `text`, at offset 0.
    static func memfd(_ text: String) throws(Errno) -> Int32 {
        let created = PathCalls.memfd("proc")
        guard created >= 0 else { throw Errno(Int32(-created)) }
        let memfd = Int32(created)
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ pwrite(memfd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            close(memfd)
            throw Errno.current
        }
        return memfd
    }

    /// The text of a rendered file, by its path under /proc; nil for the
    /// kernel's own. `kernelFile` is the kernel's, for files whose time
    /// fields are moved to the sandbox's clocks.
    func render(_ path: String, kernelFile: Int32) -> String? {
        if let time = renderTimes(path, kernelFile: kernelFile) { return time }
        if let mounts = renderMounts(path, kernelFile: kernelFile) { return mounts }
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

    /// /proc/stat's btime and /proc/<pid>/stat's starttime count from the
    /// host's boot; the sandbox's come from its own clocks, as /proc/uptime
    /// does (btime = realtime - boottime, starttime in clock ticks of the
    /// sandbox's boottime).
    func renderTimes(_ path: String, kernelFile: Int32) -> String? {
        let parts = path.split(separator: "/")
        let isProcessStat =
            parts.last == "stat" && Int(parts[0]) != nil
            && (parts.count == 2 || (parts.count == 4 && parts[1] == "task" && Int(parts[2]) != nil))
        guard path == "stat" || isProcessStat, let bytes = Kernel.contents(kernelFile) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        if path == "stat" {
            let boot = (clocks.now(CLOCK_REALTIME) - clocks.now(CLOCK_BOOTTIME)) / 1_000_000_000
            return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("btime ") ? "btime \(boot)" : String(line)
            }.joined(separator: "\n")
        }
        // Fields after "(comm) ": state is field 3, starttime field 22.
        guard let close = text.lastIndex(of: ")") else { return nil }
        var fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let index = 22 - 3 + 1  // fields[0] is the empty string before the first space
        guard fields.count > index, let ticks = Int64(fields[index]) else { return nil }
        let tick = 1_000_000_000 / Int64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        fields[index] = String(max(ticks - clocks.base(CLOCK_BOOTTIME) / tick, 0))
        return String(text[...close]) + fields.joined(separator: " ")
    }

    /// /proc/<pid>/mountinfo and mounts name host paths: the root within
    /// the source of a bind mount (the bundle's rootfs, a bound host
    /// directory) and an overlay's lowerdir/upperdir/workdir. The sandbox
    /// sees every mount rooted at "/" of its source and overlays without
    /// their layers, as under gVisor.
    func renderMounts(_ path: String, kernelFile: Int32) -> String? {
        let parts = path.split(separator: "/")
        guard let name = parts.last, name == "mountinfo" || name == "mounts", Int(parts[0]) != nil,
            parts.count == 2 || (parts.count == 4 && parts[1] == "task"),
            let bytes = Kernel.contents(kernelFile)
        else { return nil }
        let hidden: Set<String> = ["lowerdir", "upperdir", "workdir", "datadir", "redirect_dir"]
        func scrub(_ options: Substring) -> String {
            options.split(separator: ",").filter { !hidden.contains(String($0.prefix { $0 != "=" })) }.joined(separator: ",")
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line -> String in
            var fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if name == "mountinfo" {
                // id parent major:minor root mountpoint options [optional...] - type source superoptions
                guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count else { return String(line) }
                fields[3] = "/"
                fields[dash + 3] = scrub(Substring(fields[dash + 3]))
            } else if fields.count > 3 {
                // source mountpoint type options dump pass
                fields[3] = scrub(Substring(fields[3]))
            }
            return fields.joined(separator: " ")
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }

    /// All of a file read with pread (its offset stays where it was).
    static func contents(_ fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = pread(fd, &buffer, buffer.count, off_t(result.count))
            if n < 0 { return nil }
            if n == 0 { return result }
            result += buffer[..<n]
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
            ("Dirty", 0), ("Writeback", 0), ("AnonPages", usedKiB), ("Mapped", 0), ("Shmem", 0)
        ]
        return rows.map { name, value in
            let label = name + ":"
            let number = String(value)
            return label + String(repeating: " ", count: max(1, 24 - label.count - number.count)) + number + " kB\n"
        }.joined()
    }
}
