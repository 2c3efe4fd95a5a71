import Arguments
import Glibc
import OCI
import Platform
import Sentry

/// What `run` and `do` can record about the workload's syscalls.
let observationOptions: [any DeclaredOption] = [straceOption, straceLogOption, syscallReportOption, countAllOption]
let straceOption = OptionKey(
    "strace", optionalValue: "calls", help: "Print each call as strace does, with its result (=LIST: only these, comma-separated).")
let straceLogOption = OptionKey("strace-log", value: "file", help: "Write the --strace lines here instead of stderr.")
let syscallReportOption = OptionKey(
    "syscall-report", value: "file",
    help: "Write this run's calls as JSON: counts by handling, and every refused call once with its arguments.")
let countAllOption = OptionKey(flag: "count-all", help: "With --syscall-report: count every call, passthrough ones too (each then traps).")

/// The observation the options ask for, and the strace log's fd if one was opened.
func observation(_ arguments: ParsedArguments) throws -> (observation: Observation, logFD: Int32?) {
    var observation = Observation()
    var logFD: Int32?
    if let list = arguments[straceOption] {
        if !list.isEmpty {
            var numbers = Set<Int32>()
            for name in list.split(separator: ",").map(String.init) {
                guard let nr = SyscallTable.number(of: name) else { throw Failure("--strace: no syscall is named \(name)", code: 2) }
                numbers.insert(nr)
            }
            observation.straceOnly = numbers
        }
        observation.straceFD = 2
        if let path = arguments[straceLogOption] {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure("--strace-log \(path): \(Errno.current)") }
            observation.straceFD = fd
            logFD = fd
        }
    } else if arguments[straceLogOption] != nil {
        throw Failure("--strace-log needs --strace", code: 2)
    }
    if arguments[syscallReportOption] != nil {
        observation.refused = true
        observation.all = arguments[countAllOption]
    } else if arguments[countAllOption] {
        throw Failure("--count-all needs --syscall-report", code: 2)
    }
    return (observation, logFD)
}

/// `--syscall-report FILE`: one run's calls as JSON.
enum SyscallReport {
    static func write(_ kernel: Kernel, to path: String, countAll: Bool) throws(Failure) {
        let table = SyscallTable.shared
        var calls: [JSON] = []
        for (nr, count) in kernel.trapCounts.enumerated() where count > 0 {
            let entry = table.entry(Int32(nr))
            calls.append(
                .object([
                    ("name", .string(SyscallTable.name(of: Int32(nr)) ?? "syscall_\(nr)")),
                    ("number", .int(nr)),
                    ("count", .int(count)),
                    ("handling", .string(entry?.handling.kind ?? "unimplemented"))
                ]))
        }
        let refused: [JSON] = kernel.refusedCalls.map { call in
            let name = SyscallTable.name(of: call.number) ?? "syscall_\(call.number)"
            return .object([
                ("name", .string(name)),
                ("number", .int(call.number)),
                ("errno", .string(call.errno.name)),
                ("count", .int(call.count)),
                ("arguments", .array(call.arguments.map { .string("0x" + String($0, radix: 16)) }))
            ])
        }
        let json = JSON.object([
            // "trapped": only the calls Moat serves were counted; "all": every call.
            ("counted", .string(countAll ? "all" : "trapped")),
            ("trapped", .array(calls)),
            ("refused", .array(refused)),
            ("execs", .int(kernel.execCount))
        ])
        let text = json.rendered() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("--syscall-report \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        if !refused.isEmpty {
            let names = Set(kernel.refusedCalls.map { SyscallTable.name(of: $0.number) ?? "syscall_\($0.number)" }).sorted()
            let total = kernel.refusedCalls.reduce(0) { $0 + $1.count }
            let shown =
                names.count > 6
                ? names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more"
                : names.joined(separator: ", ")
            report("\(total) call\(total == 1 ? " was" : "s were") refused (\(shown)); see \(path)")
        }
    }
}
