import Arguments
import Glibc
import OCI
import Platform

enum Ps: Subcommand {
    static let spec = CommandSpec(
        name: "ps", abstract: "List a container's processes (host pids, as runc prints them).",
        options: [rootOption, formatOption],
        positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        guard info.status != .stopped, let initPid = info.initPid else {
            throw Failure("container \(info.id) is not running", code: 1)
        }
        let pids = Signals.processesOfContainer(init: initPid, supervisor: info.pid).sorted()
        switch arguments[formatOption] {
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
