import OCI
import Sentry

enum Syscalls: Subcommand {
    static let spec = CommandSpec(
        name: "syscalls",
        abstract: "The syscall coverage report, generated from the syscall table.",
        options: [.init(long: "format", value: "format", defaultValue: "table", help: "table, json, csv or markdown.")])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let rows = SyscallRows.all()
        switch arguments.value("format")! {
        case "table": writeOut(SyscallRows.table(rows))
        case "json": writeOut(SyscallRows.json(rows).rendered() + "\n")
        case "csv": writeOut(SyscallRows.csv(rows))
        case "markdown": writeOut(SyscallRows.markdown(rows))
        default: throw Failure("--format: use table, json, csv or markdown", code: 2)
        }
        return 0
    }
}

/// One line of the report per syscall number.
struct SyscallRows {
    var number: Int32
    var name: String
    var handling: String
    var level: String
    var note: String

    static func all() -> [SyscallRows] {
        let table = SyscallTable.shared
        return (0...SyscallTable.maxNumber).compactMap { nr in
            guard let name = SyscallTable.name(of: nr) else { return nil }
            guard let entry = table.entry(nr) else {
                return SyscallRows(number: nr, name: name, handling: "denied (ENOSYS)", level: "unimplemented",
                                   note: "not implemented")
            }
            var handling = entry.handling.kind
            if case .deny(let errno) = entry.handling { handling += " (\(errnoName(errno.rawValue)))" }
            return SyscallRows(number: nr, name: name, handling: handling, level: entry.level.rawValue, note: entry.note)
        }
    }

    static func errnoName(_ value: Int32) -> String {
        [1: "EPERM", 38: "ENOSYS", 95: "EOPNOTSUPP", 22: "EINVAL"][value] ?? "errno \(value)"
    }

    static func totals(_ rows: [SyscallRows]) -> [(String, Int)] {
        func count(_ test: (SyscallRows) -> Bool) -> Int { rows.filter(test).count }
        return [
            ("total", rows.count),
            ("full", count { $0.level == "full" }),
            ("partial", count { $0.level == "partial" }),
            ("unimplemented", count { $0.level == "unimplemented" }),
            ("emulated", count { $0.handling == "emulated" }),
            ("passthrough (host surface)", count { $0.handling == "passthrough" }),
            ("denied", count { $0.handling.hasPrefix("denied") }),
        ]
    }

    static func table(_ rows: [SyscallRows]) -> String {
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
        var out = pad("NR", 5) + pad("NAME", 24) + pad("HANDLING", 18) + pad("LEVEL", 15) + "NOTE\n"
        for r in rows {
            out += pad(String(r.number), 5) + pad(r.name, 24) + pad(r.handling, 18) + pad(r.level, 15) + r.note + "\n"
        }
        out += "\n" + totals(rows).map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        return out
    }

    static func json(_ rows: [SyscallRows]) -> JSON {
        .object([
            ("syscalls", .array(rows.map { r in
                .object([("number", .int(r.number)), ("name", .string(r.name)), ("handling", .string(r.handling)),
                         ("level", .string(r.level)), ("note", .string(r.note))])
            })),
            ("totals", .object(totals(rows).map { ($0.0, .int($0.1)) })),
        ])
    }

    static func csv(_ rows: [SyscallRows]) -> String {
        func field(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s }
        return "number,name,handling,level,note\n" + rows.map {
            "\($0.number),\($0.name),\(field($0.handling)),\($0.level),\(field($0.note))"
        }.joined(separator: "\n") + "\n"
    }

    static func markdown(_ rows: [SyscallRows]) -> String {
        "| nr | name | handling | level | note |\n|---:|---|---|---|---|\n" + rows.map {
            "| \($0.number) | \($0.name) | \($0.handling) | \($0.level) | \($0.note) |"
        }.joined(separator: "\n") + "\n\n" + totals(rows).map { "- \($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
    }
}
