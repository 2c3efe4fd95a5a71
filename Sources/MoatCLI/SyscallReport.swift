import Glibc
import OCI
import Sentry

/// `--syscall-report FILE`: how often each trapped syscall was seen in one run.
enum SyscallReport {
    static func write(_ kernel: Kernel, to path: String) throws {
        let table = SyscallTable.shared
        var calls: [JSON] = []
        for (nr, count) in kernel.trapCounts.enumerated() where count > 0 {
            let entry = table.entry(Int32(nr))
            calls.append(.object([
                ("name", .string(SyscallTable.name(of: Int32(nr)) ?? "syscall_\(nr)")),
                ("number", .int(nr)),
                ("count", .int(count)),
                ("handling", .string(entry?.handling.kind ?? "unimplemented")),
            ]))
        }
        let json = JSON.object([("trapped", .array(calls)), ("execs", .int(kernel.execCount))])
        let text = json.rendered() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("--syscall-report \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
    }
}
