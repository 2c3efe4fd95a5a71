import Arguments
import Glibc
import OCI
import Platform

enum Kill: Subcommand {
    static let spec = CommandSpec(
        name: "kill", abstract: "Send a signal (default TERM) to a container's process.",
        discussion: """
            As in any pid namespace, the container's init only receives the signals it has
            a handler for, except KILL and STOP.
            """,
        options: [rootOption, .init(long: "all", short: "a", help: "Signal every process of the container.")],
        positionals: [idArgument, .init(name: "signal", help: "Name (TERM, SIGTERM) or number.", optional: true)])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        let name = arguments.positionals.count > 1 ? arguments.positionals[1] : "TERM"
        guard let signal = Signals.number(name) else { throw Failure("unknown signal \(name)", code: 1) }
        guard info.status.maySignal, let initPid = info.initPid else {
            throw Failure("container \(info.id) is \(info.status)", code: 1)
        }
        let targets = arguments.flag("all") ? Signals.processesOfContainer(init: initPid, supervisor: info.pid) : [initPid]
        for pid in targets where Glibc.kill(pid, signal) != 0 && pid == initPid {
            throw Failure("kill \(info.id): \(String(cString: strerror(errno)))", code: 1)
        }
        return 0
    }
}

enum Signals {
    static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2,
        "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": 16, "CHLD": SIGCHLD, "CONT": SIGCONT,
        "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU,
        "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "PWR": SIGPWR,
        "SYS": SIGSYS
    ]

    /// "TERM", "SIGTERM", "term" or "15"; nil when unknown.
    static func number(_ text: String) -> Int32? {
        if let n = Int32(text) { return (1...64).contains(n) ? n : nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        return names[name]
    }

    /// Host pids of every process of the container whose init is `pid`: those
    /// in its pid namespace; when that namespace is shared (joined by path:
    /// the init is not its pid 1), only those its supervisor traces.
    static func processesOfContainer(init pid: pid_t, supervisor: pid_t?) -> [pid_t] {
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
