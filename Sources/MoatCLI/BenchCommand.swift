import Arguments
import Bench
import Glibc
import OCI
import Platform
import Sentry

/// `moat bench`: boot time, memory overhead and syscall cost of Moat, side by
/// side with native and the other runtimes on the machine, in one run.
enum BenchCommand: Subcommand {
    static let spec = CommandSpec(
        name: "bench",
        abstract: "Measure boot time, memory overhead and syscall cost against native and other runtimes.",
        discussion: """
            Without --bundle it builds its own minimal bundle (a static probe, built with gcc).
            Runs are interleaved (A B C, B C A, ...) so drift hits every runtime alike; the report
            gives medians, min and max, and ratios to native from the same run.
            With --workloads it times applications instead (python3, git, make, sqlite, redis,
            postgres) from a Debian rootfs, natively (chroot) and under each runtime; the rootfs is
            made with debootstrap on first use unless --rootfs names one.
            """,
        options: [bundle, runs, warmup, workloads, rootfs, against, density, json, svg])
    static let bundle = OptionKey("bundle", value: "dir", help: "Time this bundle's own process for boot (default: the probe's /bin/true).")
    static let runs = OptionKey("runs", value: "n", default: "20", help: "Measured runs per runtime (with --workloads: 3).")
    static let warmup = OptionKey("warmup", value: "n", default: "3", help: "Runs per runtime before measuring (with --workloads: 1).")
    static let workloads = OptionKey(
        "workloads", optionalValue: "names", help: "Time applications instead: all, or some of \(WorkloadBench.all.joined(separator: ",")).")
    static let rootfs = OptionKey(
        "rootfs", value: "dir", help: "With --workloads: a Debian rootfs to use (default \(WorkloadBench.defaultRootfs), made once).")
    static let against = OptionKey(
        "against", value: "list", default: "native,runc,crun,runsc,proot",
        help:
            "Runtimes to compare with, where installed (with --workloads also moat-direct: moat --metadata=direct, moat-files: moat --files=direct).")
    static let density = OptionKey("density", value: "n", default: "8", help: "Sandboxes idling at once for the density figure.")
    static let json = OptionKey("json", value: "file", help: "Write every sample and the machine's details here.")
    static let svg = OptionKey("svg", value: "file", help: "Write a bar chart (log scale) here.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        if let names = arguments[workloads] { return try WorkloadBench.run(arguments, names: names) }
        if arguments[rootfs] != nil { throw Failure("bench: --rootfs goes with --workloads", code: 2) }
        guard let runs = Int(arguments[runs]), runs > 0, let warmup = Int(arguments[warmup]), warmup >= 0,
            let density = Int(arguments[density]), density > 0
        else {
            throw Failure("bench: --runs, --warmup and --density take positive numbers", code: 2)
        }
        let dir = try Scratch.directory("moat-bench")
        defer { Scratch.removeTree(dir) }
        let setup = try BenchSetup(dir: dir, userBundle: arguments[bundle])
        defer { Scratch.removeTree(setup.state) }
        var runtimes = [BenchRuntime.moat(setup)]
        for name in arguments[against].split(separator: ",").map(String.init) {
            guard let runtime = BenchRuntime.named(name, setup) else {
                progress("bench: \(name) is not installed, skipped\n")
                continue
            }
            if let problem = runtime.trial(setup) {
                progress("bench: \(name) does not run here (\(problem)), skipped\n")
                continue
            }
            runtimes.append(runtime)
        }
        if let problem = runtimes[0].trial(setup) { throw Failure("bench: moat cannot run the probe: \(problem)") }
        // Native first in every table.
        runtimes.sort { ($0.name == "native" ? 0 : $0.name == "moat" ? 1 : 2) < ($1.name == "native" ? 0 : $1.name == "moat" ? 1 : 2) }

        var results = BenchResults(runtimes: runtimes.map(\.name), runs: runs, warmup: warmup, densityCount: density)
        let slots = Schedule.interleaved(runtimes: runtimes.count, runs: runs, warmup: warmup)
        for (index, slot) in slots.enumerated() {
            progress("\rbench: boot \(index + 1)/\(slots.count)   ")
            let runtime = runtimes[slot.runtime]
            let ms = runtime.timeBoot(setup, id: "b\(index)")
            let first = runtime.timeFirstInstruction(setup, id: "f\(index)")
            if !slot.isWarmup {
                results.boot[runtime.name, default: Samples()].values.append(ms)
                if let first { results.firstInstruction[runtime.name, default: Samples()].values.append(first) }
            }
        }
        for (index, runtime) in runtimes.enumerated() {
            progress("\rbench: memory \(index + 1)/\(runtimes.count)   ")
            results.memory[runtime.name] = runtime.memory(setup, rounds: 3)
            if runtime.name != "native" { results.density[runtime.name] = runtime.densityPss(setup, count: density) }
        }
        progress("\rbench: syscall cost              ")
        for runtime in runtimes where ["native", "moat"].contains(runtime.name) {
            for round in 0..<5 {
                for (call, ns) in runtime.syscallCosts(setup, id: "c\(round)") {
                    results.syscalls[runtime.name + " " + call, default: Samples()].values.append(ns)
                }
            }
        }
        progress("\rbench: sentry hot paths          ")
        results.hotPaths = HotPaths.measure()
        progress("\r                                   \r")
        results.machine = machineDetails(runtimes)
        writeOut(results.table())
        if let path = arguments[json] { try Scratch.write(results.json().rendered() + "\n", to: path) }
        if let path = arguments[svg] { try Scratch.write(results.chart().svg, to: path) }
        return 0
    }

    static func progress(_ text: String) {
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    static func machineDetails(_ runtimes: [BenchRuntime]) -> [(String, String)] {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let load = HostFile.read("/proc/loadavg").map { String(decoding: $0, as: UTF8.self).split(separator: " ").prefix(3).joined(separator: " ") }
        var details = [
            ("kernel", release), ("cpus", String(sysconf(Int32(_SC_NPROCESSORS_ONLN)))), ("load", load ?? "?"),
            ("moat", Moat.version)
        ]
        for runtime in runtimes where !["native", "moat"].contains(runtime.name) && BenchRuntime.moatProfiles[runtime.name] == nil {
            details.append((runtime.name, runtime.version() ?? "?"))
        }
        return details
    }
}

/// The probe, its bundles and a state directory for the runtimes.
struct BenchSetup {
    let dir: String
    let rootfs: String
    let probe: String
    let state: String
    /// Bundles by workload: "true", "first", "sleep", "cost".
    let bundles: [String: String]
    let userBundle: String?
    /// A copy of this binary for the sandboxes: the pages this bench process
    /// maps must not count as shared with the runtime it measures.
    let moat: String

    init(dir: String, userBundle: String?) throws {
        self.dir = dir
        rootfs = dir + "/rootfs"
        probe = rootfs + "/benchprobe"
        // Runtime state on tmpfs, as /run is on a normal system.
        state = try Scratch.directory("moat-bench-state", inMemory: true)
        mkdir(rootfs, 0o755)
        try Scratch.buildStatic(BenchProbe.source, to: probe, what: "bench")
        try Scratch.write(String(repeating: "moat bench data\n", count: 4), to: rootfs + "/data")
        var bundles: [String: String] = [:]
        for (name, args) in [
            ("true", ["/benchprobe", "true"]), ("first", ["/benchprobe", "first"]),
            ("sleep", ["/benchprobe", "sleep", "30"]), ("cost", ["/benchprobe", "cost", "/"])
        ] {
            let bundle = dir + "/bundle-" + name
            mkdir(bundle, 0o755)
            try Scratch.write(
                DefaultSpec.json(args: args, rootPath: rootfs, readonly: true).rendered() + "\n",
                to: bundle + "/config.json")
            bundles[name] = bundle
        }
        self.bundles = bundles
        self.userBundle = userBundle
        moat = dir + "/moat"
        guard let binary = HostFile.read("/proc/self/exe") else { throw Failure("bench: cannot read its own binary") }
        let fd = open(moat, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0, binary.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == binary.count else {
            throw Failure("bench: cannot copy itself to \(moat): \(Errno.current)")
        }
        // Written back, so that its pages are clean page cache like an installed binary's.
        fsync(fd)
        close(fd)
    }
}

/// One way of running the probe: natively, under Moat, or another runtime.
struct BenchRuntime {
    let name: String
    let path: String
    /// The command that runs bundle `bundle` (or, for native and proot, the probe with `args`).
    let command: (_ bundle: String, _ args: [String], _ id: String) -> [String]

    static func moat(_ setup: BenchSetup) -> BenchRuntime {
        container("moat", path: setup.moat, state: setup.state)
    }

    static func named(_ name: String, _ setup: BenchSetup) -> BenchRuntime? {
        if name == "native" {
            return BenchRuntime(name: name, path: setup.probe) { _, args, _ in ["benchprobe"] + args }
        }
        guard let path = installedPath(name) else { return nil }
        if name == "proot" {
            return BenchRuntime(name: name, path: path) { _, args, _ in [name, "-r", setup.rootfs, "/benchprobe"] + args }
        }
        return container(name, path: path, state: setup.state)
    }

    /// Moat's file profiles as runtimes of their own (`--against moat-files`).
    static let moatProfiles = ["moat-direct": "--metadata=direct", "moat-files": "--files=direct"]

    /// An OCI runtime that runs a bundle: `moat run`, `runc run`, `runsc run`, ...
    /// with its state under `state`.
    static func container(_ name: String, path: String, state: String) -> BenchRuntime {
        switch name {
        case "moat":
            return BenchRuntime(name: name, path: path) { bundle, _, id in
                ["moat", "run", "--root", state, "--bundle", bundle, id]
            }
        // The file profiles: --metadata=direct, --files=direct.
        case let profile where BenchRuntime.moatProfiles[profile] != nil:
            return BenchRuntime(name: name, path: path) { bundle, _, id in
                ["moat", "run", "--root", state, BenchRuntime.moatProfiles[profile] ?? "", "--bundle", bundle, id]
            }
        // Loopback only, as Moat's and runc's own network namespace gives.
        case "runsc":
            return BenchRuntime(name: name, path: path) { bundle, _, id in
                [name, "--root", state + "/runsc", "--network=none", "run", "--bundle", bundle, id]
            }
        default:
            return BenchRuntime(name: name, path: path) { bundle, _, id in
                [name, "--root", state + "/" + name, "run", "--bundle", bundle, id]
            }
        }
    }

    /// Where a runtime named on --against is installed.
    static func installedPath(_ name: String) -> String? {
        Scratch.findOnPath(name) ?? ["/usr/sbin/", "/usr/local/sbin/"].map({ $0 + name }).first(where: { access($0, X_OK) == 0 })
    }

    func argv(_ setup: BenchSetup, _ workload: String, _ args: [String], id: String) -> [String] {
        command(setup.bundles[workload]!, args, id)
    }

    /// Why it cannot run the probe here, or nil.
    func trial(_ setup: BenchSetup) -> String? {
        let log = setup.dir + "/trial-" + name
        let status = Scratch.spawnAndWait(path, argv(setup, "true", ["true"], id: "trial-" + name), output: log)
        guard status != 0 else { return nil }
        let text = HostFile.read(log).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? "exit \(status)"
    }

    func version() -> String? {
        let log = "/tmp/moat-bench-version-\(getpid())"
        defer { unlink(log) }
        _ = Scratch.spawnAndWait(path, [name, "--version"], output: log)
        guard let line = HostFile.read(log).flatMap({ String(decoding: $0, as: UTF8.self).split(separator: "\n").first }) else { return nil }
        return line.hasPrefix(name + " version ") ? String(line.dropFirst(name.count + 9)) : String(line)
    }

    /// Wall time (ms) from spawning the runtime to its exit, the workload being /bin/true
    /// (or the user's bundle's process).
    func timeBoot(_ setup: BenchSetup, id: String) -> Double {
        var args = argv(setup, "true", ["true"], id: id)
        if let user = setup.userBundle, name != "native", name != "proot" { args = command(user, [], id) }
        let start = Clocks.host(CLOCK_MONOTONIC)
        _ = Scratch.spawnAndWait(path, args, output: "/dev/null")
        return Double(Clocks.host(CLOCK_MONOTONIC) - start) / 1e6
    }

    /// Time (ms) from spawning the runtime to the workload's first instruction of main.
    func timeFirstInstruction(_ setup: BenchSetup, id: String) -> Double? {
        let log = setup.dir + "/first"
        let start = Clocks.host(CLOCK_REALTIME)
        guard Scratch.spawnAndWait(path, argv(setup, "first", ["first"], id: id), output: log) == 0,
            let text = HostFile.read(log), let reached = Int64(String(decoding: text, as: UTF8.self).split(separator: "\n").first ?? "")
        else { return nil }
        return Double(reached - start) / 1e6
    }

    /// PSS, RSS and peak RSS (KiB) of the runtime's whole process tree once
    /// the probe sleeps, and its peak PSS: sampled every few ms from spawn.
    func memory(_ setup: BenchSetup, rounds: Int) -> BenchResults.Memory {
        var memory = BenchResults.Memory()
        for round in 0..<rounds {
            var most = 0
            let pids = startSleepers(setup, count: 1, id: "m\(round)") { most = max(most, ProcessMemory.tree($0[0])?.pss ?? 0) }
            if let measured = ProcessMemory.tree(pids[0]) {
                memory.pss.values.append(Double(measured.pss))
                memory.rss.values.append(Double(measured.rss))
                memory.peak.values.append(Double(measured.peak))
                memory.peakPss.values.append(Double(max(most, measured.pss)))
            }
            stop(pids)
        }
        return memory
    }

    /// PSS (KiB) per sandbox when `count` idle at once: shared pages counted once in all.
    func densityPss(_ setup: BenchSetup, count: Int) -> Double? {
        let pids = startSleepers(setup, count: count, id: "d")
        defer { stop(pids) }
        let trees = pids.compactMap { ProcessMemory.tree($0) }
        guard trees.count == count else { return nil }
        return Double(trees.reduce(0) { $0 + $1.pss }) / Double(count)
    }

    /// ns per call for each measured syscall, as the probe reports them.
    func syscallCosts(_ setup: BenchSetup, id: String) -> [(String, Double)] {
        let log = setup.dir + "/cost"
        let root = name == "native" ? setup.rootfs : "/"
        guard Scratch.spawnAndWait(path, argv(setup, "cost", ["cost", root], id: id), output: log) == 0,
            let text = HostFile.read(log)
        else { return [] }
        return String(decoding: text, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { field in
            let pair = field.split(separator: "=")
            guard pair.count == 2, let value = Double(pair[1]) else { return nil }
            return (String(pair[0]), value)
        }
    }

    /// Starts sleeping probes and waits until each runtime's tree holds its
    /// running workload, then 1.5 s more; `sample` is called every few ms meanwhile.
    private func startSleepers(_ setup: BenchSetup, count: Int, id: String, sample: ([pid_t]) -> Void = { _ in }) -> [pid_t] {
        let pids = (0..<count).map { Scratch.spawn(path, argv(setup, "sleep", ["sleep", "30"], id: "\(id)-\($0)"), output: "/dev/null") }
        let pause: UInt32 = count == 1 ? 2_000 : 10_000
        let deadline = Clocks.host(CLOCK_MONOTONIC) + 5_000_000_000
        while Clocks.host(CLOCK_MONOTONIC) < deadline && !pids.allSatisfy({ ProcessMemory.workloadRuns(under: $0) }) {
            sample(pids)
            usleep(pause)
        }
        // Measure the steady state of an idle sandbox: every runtime gets 1.5 s
        // to settle (runc's init re-exec; Moat drops its set-up code after 0.5 s idle).
        let settled = Clocks.host(CLOCK_MONOTONIC) + 1_500_000_000
        while Clocks.host(CLOCK_MONOTONIC) < settled {
            sample(pids)
            usleep(pause)
        }
        return pids
    }

    private func stop(_ pids: [pid_t]) {
        for pid in pids {
            for child in ProcessMemory.treePids(pid).reversed() { kill(child, SIGKILL) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

/// Memory of process trees, read from /proc.
enum ProcessMemory {
    static func treePids(_ root: pid_t) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        guard let dir = opendir("/proc") else { return [root] }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let pid = Int32(name), let stat = HostFile.read("/proc/\(name)/stat"),
                let parent = ProcessTree.parent(fromStat: String(decoding: stat, as: UTF8.self))
            else { continue }
            parents[pid] = parent
        }
        return ProcessTree.descendants(of: root, parents: parents)
    }

    /// PSS and RSS now, and the peak RSS (VmHWM) each process reached, in KiB, summed over the tree.
    static func tree(_ root: pid_t) -> (pss: Int, rss: Int, peak: Int)? {
        var pss = 0
        var rss = 0
        var peak = 0
        for pid in treePids(root) {
            guard let text = HostFile.read("/proc/\(pid)/smaps_rollup"),
                let memory = ProcessTree.memory(fromSmapsRollup: String(decoding: text, as: UTF8.self))
            else { continue }
            pss += memory.pss
            rss += memory.rss
            if let status = HostFile.read("/proc/\(pid)/status") {
                peak += ProcessTree.peakRss(fromStatus: String(decoding: status, as: UTF8.self)) ?? memory.rss
            }
        }
        return rss == 0 ? nil : (pss, rss, peak)
    }

    static func workloadRuns(under root: pid_t) -> Bool {
        treePids(root).contains { pid in
            HostFile.read("/proc/\(pid)/comm").map { String(decoding: $0, as: UTF8.self) } == "benchprobe\n"
        }
    }
}
