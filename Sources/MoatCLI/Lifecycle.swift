import Arguments
import Glibc
import OCI
import Platform

/// The rest of the runtime-spec lifecycle: start, state, kill, delete, list.
/// Each reads the container's state; only its supervisor changes it.

let rootOption = CommandSpec.Option(long: "root", value: "dir", defaultValue: defaultStateRoot, help: "State directory.")
let idArgument = CommandSpec.Positional(name: "container-id", help: "Container id.")

func container(_ arguments: ParsedArguments, acceptCorrupt: Bool = false) throws -> ContainerInfo {
    let info: ContainerInfo
    do { info = try ContainerInfo.load(root: arguments.string("root"), id: arguments.positionals[0]) } catch { throw Failure("\(error)", code: 1) }
    if let corruption = info.corruption, !acceptCorrupt {
        throw Failure("container \(info.id): \(corruption) (moat delete --force removes it)", code: 1)
    }
    return info
}

enum Start: Subcommand {
    static let spec = CommandSpec(
        name: "start", abstract: "Run a created container's process.",
        options: [rootOption], positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        guard info.status.mayStart else { throw Failure("container \(info.id) is \(info.status), not created", code: 1) }
        do { try ControlSocket.requestStart(directory: info.directory) } catch { throw Failure("\(error)", code: 1) }
        return 0
    }
}

enum State: Subcommand {
    static let spec = CommandSpec(
        name: "state", abstract: "Print a container's state (runtime-spec JSON).",
        options: [rootOption], positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        writeOut(try container(arguments).specState.rendered() + "\n")
        return 0
    }
}

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

enum Delete: Subcommand {
    static let spec = CommandSpec(
        name: "delete", abstract: "Remove a stopped container (or, with --force, kill it first).",
        options: [rootOption, .init(long: "force", short: "f", help: "Kill a created or running container first.")],
        positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        var info = try container(arguments, acceptCorrupt: true)
        // A supervisor killed here cannot remove the container's cgroup: this command does.
        var cgroup: Cgroup?
        if !info.status.mayDelete {
            guard arguments.flag("force") else {
                throw Failure("container \(info.id) is \(info.status): stop it first or use --force", code: 1)
            }
            if let pid = info.pid, let path = (try? Bundle(directory: info.bundle))?.cgroupPath {
                cgroup = Cgroup(of: pid, expected: path, controllers: Cgroup.Controller.accounting)
            }
            // Killing the supervisor kills every workload task (PTRACE_O_EXITKILL).
            if let pid = info.pid { Glibc.kill(pid, SIGKILL) }
            if let initPid = info.initPid { Glibc.kill(initPid, SIGKILL) }
        }
        // A supervisor that has just written "stopped" may still be exiting.
        for _ in 0..<500 where info.supervised {
            usleep(10_000)
            info = try container(arguments, acceptCorrupt: true)
        }
        guard !info.supervised else { throw Failure("container \(info.id): its supervisor did not exit", code: 1) }
        // poststop hooks come from the bundle the container was made from.
        if let bundle = try? Bundle(directory: info.bundle) {
            runWarning(bundle.spec.hooks.poststop, "poststop", info.specState)
        }
        info.remove()
        cgroup?.removeOnceEmpty()
        return 0
    }
}

enum List: Subcommand {
    static let spec = CommandSpec(
        name: "list", abstract: "List containers.",
        options: [
            rootOption, .init(long: "format", short: "f", value: "format", defaultValue: "table", help: "table or json."),
            .init(long: "quiet", short: "q", help: "Only the ids.")
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let all = ContainerInfo.all(root: arguments.string("root"))
        if arguments.flag("quiet") {
            writeOut(all.map { $0.id + "\n" }.joined())
            return 0
        }
        switch arguments.string("format") {
        case "json":
            writeOut(JSON.array(all.map(\.specState)).rendered() + "\n")
        case "table":
            var out = "ID\tPID\tSTATUS\tBUNDLE\n"
            for c in all { out += "\(c.id)\t\(c.status == .stopped ? 0 : c.pid ?? 0)\t\(c.status)\t\(c.bundle)\n" }
            writeOut(out)
        default:
            throw Failure("--format: use table or json", code: 2)
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

enum Ps: Subcommand {
    static let spec = CommandSpec(
        name: "ps", abstract: "List a container's processes (host pids, as runc prints them).",
        options: [rootOption, .init(long: "format", short: "f", value: "format", defaultValue: "table", help: "table or json.")],
        positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        guard info.status != .stopped, let initPid = info.initPid else {
            throw Failure("container \(info.id) is not running", code: 1)
        }
        let pids = Signals.processesOfContainer(init: initPid, supervisor: info.pid).sorted()
        switch arguments.string("format") {
        case "json":
            writeOut(JSON.array(pids.map { .int($0) }).rendered(pretty: false) + "\n")
        case "table":
            var out = "PID\tCMD\n"
            for pid in pids {
                let comm = HostText.read("/proc/\(pid)/comm") ?? "?"
                out += "\(pid)\t\(comm)\n"
            }
            writeOut(out)
        default:
            throw Failure("--format: use table or json", code: 2)
        }
        return 0
    }
}

enum HostText {
    static func read(_ path: String) -> String? {
        guard let bytes = HostFile.read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }
}

enum Features: Subcommand {
    static let spec = CommandSpec(name: "features", abstract: "Print what this runtime supports (runtime-spec features JSON).")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        func strings(_ list: [String]) -> JSON { .array(list.map { .string($0) }) }
        let json = JSON.object([
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string("1.2.0")),
            ("hooks", strings(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])),
            // Each list is the parser's own table, so it cannot drift from what a config may say.
            ("mountOptions", strings(MountOptions.names)),
            (
                "linux",
                .object([
                    // Each may also be joined by path.
                    ("namespaces", strings(Spec.supportedNamespaces.sorted())),
                    ("capabilities", strings(Spec.capabilityNames)),
                    (
                        "cgroup",
                        .object([
                            ("v1", .bool(true)), ("v2", .bool(true)), ("systemd", .bool(false)),
                            ("systemdUser", .bool(false))
                        ])
                    ),
                    (
                        "seccomp",
                        .object([
                            ("enabled", .bool(true)),
                            ("actions", strings(SeccompProfile.actionNames)),
                            ("operators", strings(SeccompProfile.operatorNames)),
                            ("archs", strings(["SCMP_ARCH_X86_64"]))
                        ])
                    ),
                    ("apparmor", .object([("enabled", .bool(false))])),
                    ("selinux", .object([("enabled", .bool(false))]))
                ])
            ),
            (
                "annotations",
                .object([
                    (Bundle.realtimeStartAnnotation, .string("RFC 3339 UTC or epoch seconds: fixed REALTIME at start")),
                    (Bundle.overlayAnnotation, .string("memory, none or a directory: an overlay over the root, as --overlay")),
                    (Bundle.metadataAnnotation, .string("sentry or direct: who resolves stat, access and readlink paths, as --metadata"))
                ])
            )
        ])
        writeOut(json.rendered() + "\n")
        return 0
    }
}

/// pause and resume: every task of the container is put in group-stop
/// (SIGSTOP, which the init cannot ignore from outside) and continued.
enum Pause: Subcommand {
    static let spec = CommandSpec(
        name: "pause", abstract: "Stop every process of a running container.",
        options: [rootOption], positionals: [idArgument])
    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        try signalAll(arguments, from: .running, signal: SIGSTOP, paused: true)
    }
}

enum Resume: Subcommand {
    static let spec = CommandSpec(
        name: "resume", abstract: "Continue a paused container.",
        options: [rootOption], positionals: [idArgument])
    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        try signalAll(arguments, from: .paused, signal: SIGCONT, paused: false)
    }
}

/// Signals every process of a container in state `status`, then records whether it is paused.
func signalAll(_ arguments: ParsedArguments, from status: ContainerStatus, signal: Int32, paused: Bool) throws -> Int32 {
    let info = try container(arguments)
    guard info.status == status, let initPid = info.initPid else {
        throw Failure("container \(info.id) is \(info.status), not \(status)", code: 1)
    }
    for pid in Signals.processesOfContainer(init: initPid, supervisor: info.pid) { Glibc.kill(pid, signal) }
    ContainerInfo.markPaused(root: arguments.string("root"), id: info.id, paused)
    return 0
}

/// `events`: resource statistics of a container, once (--stats) or every
/// --interval seconds until it stops, as runc's JSON lines.
enum Events: Subcommand {
    static let spec = CommandSpec(
        name: "events", abstract: "Print a container's resource statistics as JSON lines.",
        options: [
            rootOption, .init(long: "stats", help: "Print the statistics once and exit."),
            .init(long: "interval", value: "seconds", defaultValue: "5", help: "Time between statistics.")
        ],
        positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let interval = Double(arguments.string("interval")), interval > 0 else {
            throw Failure("--interval: a positive number of seconds", code: 2)
        }
        repeat {
            let info = try container(arguments)
            guard info.status != .stopped, let initPid = info.initPid else {
                if arguments.flag("stats") { throw Failure("container \(info.id) is stopped", code: 1) }
                return 0
            }
            writeOut(stats(info.id, initPid, supervisor: info.pid).rendered(pretty: false) + "\n")
            if arguments.flag("stats") { return 0 }
            usleep(UInt32(interval * 1_000_000))
        } while true
    }

    /// pids: the processes of the container's pid namespace; memory: the sum
    /// of their resident sets (there may be no memory cgroup to ask).
    static func stats(_ id: String, _ initPid: pid_t, supervisor: pid_t?) -> JSON {
        let pids = Signals.processesOfContainer(init: initPid, supervisor: supervisor)
        var rss: Int64 = 0
        for pid in pids {
            guard let bytes = HostFile.read("/proc/\(pid)/status") else { continue }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
                rss += Int64(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
            }
        }
        return .object([
            ("type", .string("stats")), ("id", .string(id)),
            (
                "data",
                .object([
                    ("pids", .object([("current", .int(pids.count))])),
                    ("memory", .object([("usage", .object([("usage", .int(rss * 1024))]))]))
                ])
            )
        ])
    }
}
