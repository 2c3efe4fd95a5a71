import Arguments
import Glibc
import OCI
import Platform

/// `events`: resource statistics of a container, once (--stats) or every
/// --interval seconds until it stops, as runc's JSON lines.
enum Events: Subcommand {
    static let spec = CommandSpec(
        name: "events", abstract: "Print a container's resource statistics as JSON lines.",
        options: [
            rootOption, stats, interval
        ],
        positionals: [idArgument])
    static let stats = OptionKey(flag: "stats", help: "Print the statistics once and exit.")
    static let interval = OptionKey("interval", value: "seconds", default: "5", help: "Time between statistics.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        guard let interval = Double(arguments[interval]), interval > 0 else {
            throw Failure("--interval: a positive number of seconds", code: 2)
        }
        repeat {
            let info = try container(arguments)
            guard info.status != .stopped, let initPid = info.initPid else {
                if arguments[stats] { throw Failure("container \(info.id) is stopped", code: 1) }
                return 0
            }
            writeOut(stats(info.id, initPid, supervisor: info.pid).rendered(pretty: false) + "\n")
            if arguments[stats] { return 0 }
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
