import Arguments
import OCI
import Sentry

enum Syscalls: Subcommand {
    static let spec = CommandSpec(
        name: "syscalls",
        abstract: "The syscall coverage report, generated from the syscall table.",
        discussion: """
            Every x86_64 syscall: how Moat handles it (served by the sentry, run by the host,
            refused with an errno) and how well. --verify builds a probe program with gcc,
            runs it inside a sandbox and reports, per syscall, whether what is declared was
            seen; it exits 1 if a declared call failed its probe.
            """,
        options: [format, filter, verify, root],
        positionals: [.init(name: "name", help: "Only these syscalls.", optional: true, rest: true)])
    static let format = OptionKey("format", value: "format", default: "table", help: "table, json, csv or markdown.")
    static let filter = OptionKey(
        "filter", value: "kind", help: "Only emulated, passthrough, denied or unimplemented calls (or a level: full, partial).")
    static let verify = OptionKey(flag: "verify", help: "Run the probes inside a sandbox and report what was seen.")
    static let root = OptionKey("root", value: "dir", default: defaultStateRoot, help: "State directory for --verify's sandbox.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        var rows = SyscallRows.all()
        if let kind = arguments[filter] {
            let kinds = ["emulated", "passthrough", "denied", "unimplemented", "full", "partial"]
            guard kinds.contains(kind) else { throw Failure("--filter: use \(kinds.joined(separator: ", "))", code: 2) }
            rows = rows.filter { $0.handling.hasPrefix(kind) || $0.level == kind }
        }
        if !arguments.positionals.isEmpty {
            let known = Set(rows.map(\.name))
            let all = Set(SyscallRows.all().map(\.name))
            if let unknown = arguments.positionals.first(where: { !all.contains($0) }) {
                throw Failure("no syscall is named \(unknown)", code: 2)
            }
            let wanted = Set(arguments.positionals).intersection(known)
            rows = rows.filter { wanted.contains($0.name) }
        }
        var failed = false
        if arguments[verify] {
            let result = try Verify.run(stateRoot: arguments[root])
            for index in rows.indices {
                let seen = result.seen[rows[index].number] ?? .notProbed
                rows[index].seen = seen.rawValue
                if seen == .failed {
                    failed = true
                    rows[index].note += " — probe: " + (result.failures[rows[index].number] ?? []).joined(separator: "; ")
                }
            }
        }
        switch arguments[format] {
        case "table": writeOut(SyscallRows.table(rows))
        case "json": writeOut(SyscallRows.json(rows).rendered() + "\n")
        case "csv": writeOut(SyscallRows.csv(rows))
        case "markdown": writeOut(SyscallRows.markdown(rows))
        default: throw Failure("--format: use table, json, csv or markdown", code: 2)
        }
        return failed ? 1 : 0
    }
}

/// One line of the report per syscall number.
struct SyscallRows {
    var number: Int32
    var name: String
    var handling: String
    var level: String
    var note: String
    /// With --verify: verified, failed or not probed.
    var seen: String?

    static func all() -> [SyscallRows] {
        let table = SyscallTable.shared
        return (0...SyscallTable.maxNumber).compactMap { nr in
            guard let name = SyscallTable.name(of: nr) else { return nil }
            guard let entry = table.entry(nr) else {
                return SyscallRows(
                    number: nr, name: name, handling: "denied (ENOSYS)", level: "unimplemented",
                    note: "not implemented")
            }
            var handling = entry.handling.kind
            if case .deny(let errno) = entry.handling { handling += " (\(errnoName(errno.rawValue)))" }
            let note =
                entry.readsMetadata
                ? entry.note + "; with --metadata=direct or --files=direct run by the host in the sandbox's mount namespace"
                : entry.opensByPath ? entry.note + "; with --files=direct run by the host in the sandbox's mount namespace" : entry.note
            return SyscallRows(number: nr, name: name, handling: handling, level: entry.level.rawValue, note: note)
        }
    }

    static func errnoName(_ value: Int32) -> String {
        [1: "EPERM", 38: "ENOSYS", 95: "EOPNOTSUPP", 22: "EINVAL"][value] ?? "errno \(value)"
    }

    static func totals(_ rows: [SyscallRows]) -> [(String, Int)] {
        func count(_ test: (SyscallRows) -> Bool) -> Int { rows.filter(test).count }
        var totals = [
            ("total", rows.count),
            ("full", count { $0.level == "full" }),
            ("partial", count { $0.level == "partial" }),
            ("unimplemented", count { $0.level == "unimplemented" }),
            ("emulated", count { $0.handling == "emulated" }),
            ("passthrough (host surface)", count { $0.handling == "passthrough" }),
            ("denied", count { $0.handling.hasPrefix("denied") })
        ]
        if rows.contains(where: { $0.seen != nil }) {
            totals += [
                ("verified full", count { $0.level == "full" && $0.seen == "verified" }),
                ("verified partial", count { $0.level == "partial" && $0.seen == "verified" }),
                ("verified refused", count { $0.handling.hasPrefix("denied") && $0.seen == "verified" }),
                ("failed", count { $0.seen == "failed" }),
                ("not probed", count { $0.seen == "not probed" })
            ]
        }
        return totals
    }

    static func table(_ rows: [SyscallRows]) -> String {
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }
        let verifying = rows.contains { $0.seen != nil }
        var out = pad("NR", 5) + pad("NAME", 24) + pad("HANDLING", 18) + pad("LEVEL", 15) + (verifying ? pad("SEEN", 12) : "") + "NOTE\n"
        for r in rows {
            out +=
                pad(String(r.number), 5) + pad(r.name, 24) + pad(r.handling, 18) + pad(r.level, 15)
                + (verifying ? pad(r.seen ?? "", 12) : "") + r.note + "\n"
        }
        out += "\n" + totals(rows).map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        return out
    }

    static func json(_ rows: [SyscallRows]) -> JSON {
        .object([
            (
                "syscalls",
                .array(
                    rows.map { r in
                        var fields: [(String, JSON)] = [
                            ("number", .int(r.number)), ("name", .string(r.name)), ("handling", .string(r.handling)),
                            ("level", .string(r.level)), ("note", .string(r.note))
                        ]
                        if let seen = r.seen { fields.append(("seen", .string(seen))) }
                        return .object(fields)
                    })
            ),
            ("totals", .object(totals(rows).map { ($0.0, .int($0.1)) }))
        ])
    }

    static func csv(_ rows: [SyscallRows]) -> String {
        func field(_ s: String) -> String {
            s.contains(",") || s.contains("\"")
                ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
        }
        let verifying = rows.contains { $0.seen != nil }
        return "number,name,handling,level,note" + (verifying ? ",seen" : "") + "\n"
            + rows.map {
                "\($0.number),\($0.name),\(field($0.handling)),\($0.level),\(field($0.note))" + (verifying ? ",\($0.seen ?? "")" : "")
            }.joined(separator: "\n") + "\n"
    }

    static func markdown(_ rows: [SyscallRows]) -> String {
        let verifying = rows.contains { $0.seen != nil }
        return "| nr | name | handling | level |" + (verifying ? " seen |" : "") + " note |\n|---:|---|---|---|" + (verifying ? "---|" : "")
            + "---|\n"
            + rows.map {
                "| \($0.number) | \($0.name) | \($0.handling) | \($0.level) |" + (verifying ? " \($0.seen ?? "") |" : "") + " \($0.note) |"
            }.joined(separator: "\n") + "\n\n" + totals(rows).map { "- \($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
    }
}
