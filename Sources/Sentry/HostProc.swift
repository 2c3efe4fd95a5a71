import Glibc
import Platform

/// Reads the host's /proc entries for tracees (the supervisor's view, host pids).
enum HostProc {
    /// Fields of /proc/<tid>/status that the sentry needs.
    struct Status {
        var tgid: HostTid = 0
        var ppid: HostTid = 0
        var nspid: Int32 = 0  // innermost namespace: the sandbox's pid
        var effectiveCaps: UInt64 = 0
    }

    static func status(_ tid: HostTid) -> Status? {
        guard let bytes = HostProcfs.read("\(tid)/status") else { return nil }
        var status = Status()
        forEachField(bytes) { key, values in
            guard let text = values.last else { return }
            switch key {
            case "Tgid": status.tgid = HostTid(text) ?? 0
            case "PPid": status.ppid = HostTid(text) ?? 0
            case "NSpid": status.nspid = Int32(text) ?? 0
            case "CapEff": status.effectiveCaps = UInt64(text, radix: 16) ?? 0
            default: break
            }
        }
        return status.tgid == 0 ? nil : status
    }

    /// The host pid of the process numbered `vpid` in the pid namespace of
    /// host process `member`, found by looking at every process of the host
    /// (for the rare process of a shared pid namespace that is not the sentry's).
    static func hostPid(of vpid: Int32, inPidNamespaceOf member: HostTid) -> HostTid? {
        var namespace = stat()
        guard fstatat(HostProcfs.directory, "\(member)/ns/pid", &namespace, 0) == 0,
            let entries = fdopendir(HostProcfs.open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        else { return nil }
        defer { closedir(entries) }
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let pid = HostTid(name) else { continue }
            var theirs = stat()
            guard fstatat(HostProcfs.directory, "\(name)/ns/pid", &theirs, 0) == 0,
                theirs.st_ino == namespace.st_ino, theirs.st_dev == namespace.st_dev,
                status(pid)?.nspid == vpid
            else { continue }
            return pid
        }
        return nil
    }

    /// Whether a fault raising `signal` in thread `tid` takes the default
    /// action, as the kernel's force_sig decides: unless a handler catches
    /// it and the thread does not block it (a blocked or ignored fault
    /// signal is unblocked and reset to its default).
    static func faultTakesDefaultAction(_ tid: HostTid, signal: Int32) -> Bool {
        guard let masks = signalMasks(tid) else { return true }
        let bit = UInt64(1) << UInt64(signal - 1)
        return masks.caught & bit == 0 || masks.blocked & bit != 0
    }

    /// The signal masks of thread `tid` (its /proc status).
    struct SignalMasks {
        var pending: UInt64 = 0, shared: UInt64 = 0, blocked: UInt64 = 0, ignored: UInt64 = 0, caught: UInt64 = 0

        /// Whether Linux drops `signal` when it is sent (ignored: SIG_IGN, or
        /// SIG_DFL where the default is to ignore; and not blocked). Under
        /// ptrace the kernel queues it anyway, for the tracer to see.
        func drops(_ signal: Int32) -> Bool {
            let bit = UInt64(1) << UInt64(signal - 1)
            let ignoredByDefault = [SIGCHLD, SIGURG, SIGWINCH, SIGCONT].contains(signal)
            return blocked & bit == 0 && (ignored & bit != 0 || (caught & bit == 0 && ignoredByDefault))
        }

        /// Signals pending for the thread and not blocked, as numbers.
        var deliverable: [Int32] {
            let set = (pending | shared) & ~blocked
            return (1...64).filter { set & (UInt64(1) << UInt64($0 - 1)) != 0 }.map(Int32.init)
        }
    }

    static func signalMasks(_ tid: HostTid) -> SignalMasks? {
        guard let bytes = HostProcfs.read("\(tid)/status") else { return nil }
        var masks = SignalMasks()
        forEachField(bytes) { key, values in
            guard let mask = values.last.flatMap({ UInt64($0, radix: 16) }) else { return }
            switch key {
            case "SigPnd": masks.pending = mask
            case "ShdPnd": masks.shared = mask
            case "SigBlk": masks.blocked = mask
            case "SigIgn": masks.ignored = mask
            case "SigCgt": masks.caught = mask
            default: break
            }
        }
        return masks
    }

    /// Each "Key:\tvalue value ..." line of a /proc status file.
    static func forEachField(_ bytes: [UInt8], _ body: (String, [String]) -> Void) {
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let values = line[(colon + 1)...].split(whereSeparator: { $0 == 9 || $0 == 32 })
            body(String(decoding: line[..<colon], as: UTF8.self), values.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// utime, stime, cutime, cstime (clock ticks) from /proc/<pid>/stat.
    static func cpuTimes(_ pid: HostTid) -> [Int64]? {
        guard let bytes = HostProcfs.read("\(pid)/stat"),
            let close = bytes.lastIndex(of: UInt8(ascii: ")"))
        else { return nil }
        // Fields after "(comm)": state is field 3; utime..cstime are 14...17.
        let fields = bytes[(close + 2)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 14 else { return nil }
        return (11...14).map { Int64(String(decoding: fields[$0], as: UTF8.self)) ?? 0 }
    }

    /// The clock of timerfd `fd` of thread `tid` ("clockid:" in its fdinfo); nil if it is not a timerfd.
    static func timerfdClock(_ tid: HostTid, fd: Int32) -> Int32? {
        field("\(tid)/fdinfo/\(fd)", after: "clockid:", in: nil)
    }

    /// The clock of POSIX timer `id` of process `pid` (its "ClockID:" in /proc/<pid>/timers).
    static func posixTimerClock(_ pid: HostTid, id: Int32) -> Int32? {
        field("\(pid)/timers", after: "ClockID:", in: "ID: \(id)")
    }

    /// The number after `key` in a /proc file, within the block that starts
    /// with the line `block` if given.
    private static func field(_ path: String, after key: String, in block: String?) -> Int32? {
        guard let bytes = HostProcfs.read(path) else { return nil }
        var inBlock = block == nil
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if let block, line.hasPrefix("ID:") { inBlock = line == block }
            if inBlock, line.hasPrefix(key) {
                return Int32(String(line.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }))
            }
        }
        return nil
    }
}
