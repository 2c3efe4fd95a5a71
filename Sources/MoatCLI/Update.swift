import Arguments
import Glibc
import OCI
import Platform

/// `moat update`: changes a running container's cgroup limits, as runc's
/// (`docker update`, `podman update` and containerd's shim call it with
/// `--resources -`, a runtime-spec LinuxResources on stdin). The container's
/// cgroup is the one its supervisor is in (made from linux.cgroupsPath).
enum Update: Subcommand {
    static let spec = CommandSpec(
        name: "update", abstract: "Change a running container's resource limits.",
        discussion: """
            The limits apply to the container's cgroup (it has one when its config gives
            linux.cgroupsPath, as engines do). The sandbox's /proc/meminfo keeps the limit it
            started with.
            """,
        options: [rootOption, resources] as [any DeclaredOption] + numbers.map(\.option) + [cpusetCPUs, cpusetMems],
        positionals: [idArgument])
    static let resources = OptionKey(
        "resources", short: "r", value: "file", help: "A runtime-spec LinuxResources JSON file, or - for stdin.")
    /// The numeric limits, each with where it goes in LinuxResources.
    static let numbers: [(option: OptionKey<String?>, path: [String])] = [
        (OptionKey("memory", value: "bytes", help: "Memory limit (k, m, g suffixes)."), ["memory", "limit"]),
        (OptionKey("memory-swap", value: "bytes", help: "Memory plus swap limit (-1: unlimited)."), ["memory", "swap"]),
        (OptionKey("memory-reservation", value: "bytes", help: "Memory soft limit."), ["memory", "reservation"]),
        (OptionKey("pids-limit", value: "n", help: "Maximum number of tasks (0 or -1: unlimited)."), ["pids", "limit"]),
        (OptionKey("cpu-shares", value: "n", help: "CPU weight."), ["cpu", "shares"]),
        (OptionKey("cpu-quota", value: "us", help: "CPU time per period (-1: unlimited)."), ["cpu", "quota"]),
        (OptionKey("cpu-period", value: "us", help: "CPU accounting period."), ["cpu", "period"]),
        (OptionKey("blkio-weight", value: "n", help: "Block I/O weight (10-1000)."), ["blockIO", "weight"])
    ]
    static let cpusetCPUs = OptionKey("cpuset-cpus", value: "list", help: "CPUs the container may use (0-3,5).")
    static let cpusetMems = OptionKey("cpuset-mems", value: "list", help: "Memory nodes the container may use.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        guard info.status.maySignal, let supervisor = info.pid else {
            throw Failure("container \(info.id) is \(info.status)", code: 1)
        }
        var json = JSON.object([])
        if let file = arguments[resources] {
            let bytes = file == "-" ? HostFile.readAll(0) : HostFile.read(file)
            guard let bytes else { throw Failure("--resources \(file): cannot be read", code: 1) }
            do { json = try JSON.parse(bytes) } catch { throw Failure("--resources \(file): malformed JSON: \(error)", code: 1) }
        }
        for (option, path) in numbers {
            guard let text = arguments[option] else { continue }
            guard let value = bytes(text) else { throw Failure("--\(option.declaration.long): \(text) is not a number", code: 2) }
            json = json.replacing(path: path, with: .int(value))
        }
        if let cpus = arguments[cpusetCPUs] { json = json.replacing(path: ["cpu", "cpus"], with: .string(cpus)) }
        if let mems = arguments[cpusetMems] { json = json.replacing(path: ["cpu", "mems"], with: .string(mems)) }
        let resources: Spec.Resources
        do { resources = try Spec.decodeResources(json, path: "resources") } catch { throw Failure("\(error)", code: 1) }
        let path = (try? Bundle(directory: info.bundle))?.cgroupPath
        guard let path, let cgroup = Cgroup(of: supervisor, expected: path, controllers: Cgroup.Controller.accounting) else {
            throw Failure("container \(info.id) has no cgroup of its own (its config gives no linux.cgroupsPath)", code: 1)
        }
        do {
            if let limit = resources.pidsLimit { try cgroup.limitPids(limit) }
            if let limit = resources.memoryLimit { try cgroup.limitMemory(limit, swap: resources.memorySwap) }
            if let bytes = resources.memoryReservation { try cgroup.reserveMemory(bytes) }
            if let cpu = resources.cpu { try cgroup.limitCPU(shares: cpu.shares, quota: cpu.quota, period: cpu.period) }
            if let weight = resources.blockIOWeight { try cgroup.setBlockIOWeight(weight) }
            if resources.cpus != nil || resources.mems != nil {
                guard let cpuset = Cgroup(of: supervisor, expected: path, controllers: [.cpuset]) else { throw Errno.invalid }
                try cpuset.restrictCPUs(cpus: resources.cpus, mems: resources.mems)
            }
        } catch { throw Failure("update \(info.id): \(error)", code: 1) }
        return 0
    }

    /// "64m" → 67108864; plain numbers as they are (negative for unlimited).
    static func bytes(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        if let last = text.lowercased().last, let unit = units[last] { return Int64(text.dropLast()).map { $0 * unit } }
        return Int64(text)
    }
}
