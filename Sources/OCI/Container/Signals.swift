import Glibc
import Platform

/// Signals by name, and the processes of a container to send them to.
public enum Signals {
    public static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
        "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": 16, "CHLD": SIGCHLD, "CONT": SIGCONT,
        "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU,
        "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "PWR": SIGPWR,
        "SYS": SIGSYS
    ]

    /// "TERM", "SIGTERM", "term" or "15"; nil when unknown.
    public static func number(_ text: String) -> Int32? {
        if let n = Int32(text) { return (1...64).contains(n) ? n : nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        return names[name]
    }

    /// Host pids of every process of the container whose init is `pid`: those
    /// in its pid namespace; when that namespace is shared (joined by path:
    /// the init is not its pid 1), only those its supervisor traces.
    public static func processesOfContainer(init pid: pid_t, supervisor: pid_t?) -> [pid_t] {
        guard let target = link("/proc/\(pid)/ns/pid"), let dir = opendir("/proc") else { return [pid] }
        defer { closedir(dir) }
        let shared = field("NSpid", of: pid)?.split(separator: "\t").last != "1"
        var found: [pid_t] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let candidate = pid_t(name), link("/proc/\(name)/ns/pid") == target else { continue }
            if shared, candidate != pid, !isTraced(candidate, by: supervisor) { continue }
            found.append(candidate)
        }
        return found
    }

    /// Whether a thread of process `supervisor` traces `pid`.
    static func isTraced(_ pid: pid_t, by supervisor: pid_t?) -> Bool {
        guard let supervisor, let tracer = field("TracerPid", of: pid), tracer != "0" else { return false }
        return access("/proc/\(supervisor)/task/\(tracer)", F_OK) == 0
    }

    /// A field of /proc/<pid>/status, as text.
    static func field(_ name: String, of pid: pid_t) -> String? {
        guard let bytes = HostFile.read("/proc/\(pid)/status") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1).drop { $0 == " " || $0 == "\t" })
        }
        return nil
    }

    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
