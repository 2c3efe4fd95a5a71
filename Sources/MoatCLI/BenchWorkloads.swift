import Arguments
import Bench
import Glibc
import OCI
import Platform

/// `moat bench --workloads`: real programs from a Debian rootfs (python3, git,
/// make and gcc, sqlite, redis, postgres), each run natively in a chroot and
/// under every runtime from the same rootfs, timing only the part each
/// workload measures (Probes/workloads.sh), so that the runtimes' boot does not
/// hide what their system calls cost.
struct WorkloadBench {
    static let all = ["python3-startup", "git-status", "git-log", "make", "sqlite", "redis", "pg-initdb", "pgbench"]
    static let descriptions = [
        "python3-startup": "python3 -c pass, 20 times", "git-status": "git status x5, 1,000-file repository",
        "git-log": "git log --stat, 101 commits", "make": "make -j(nproc), 41 C files", "sqlite": "sqlite3, 2,000 inserts",
        "redis": "redis-benchmark in the sandbox, 40,000 requests", "pg-initdb": "postgres initdb",
        "pgbench": "pgbench -c 4, 2,000 transactions"
    ]
    /// What debootstrap installs beyond minbase when moat bench makes the rootfs.
    static let packages = [
        "python3", "git", "make", "gcc", "libc6-dev", "sqlite3", "redis-server", "redis-tools",
        "postgresql-15", "netbase"
    ]
    static let defaultRootfs = "/var/lib/moat/bench-rootfs"
    static let script = "/srv/moat-bench/workloads.sh"
    static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// A run taking longer than this is killed and counted as failed.
    static let timeoutSeconds = 600

    let rootfs: String
    let dir: String
    let state: String

    static func run(_ arguments: ParsedArguments, names requested: String) throws -> Int32 {
        let names = requested.isEmpty || requested == "all" ? all : requested.split(separator: ",").map(String.init)
        if let unknown = names.first(where: { !all.contains($0) }) {
            throw Failure("bench: unknown workload \(unknown) (workloads: \(all.joined(separator: ", ")))", code: 2)
        }
        guard let runs = Int(arguments[BenchCommand.runs]), runs > 0, let warmup = Int(arguments[BenchCommand.warmup]), warmup >= 0 else {
            throw Failure("bench: --runs and --warmup take positive numbers", code: 2)
        }
        // The application mode's own default: a workload runs for seconds, not milliseconds.
        let rounds = arguments.given(BenchCommand.runs) ? runs : 3
        let warmups = arguments.given(BenchCommand.warmup) ? warmup : 1
        let rootfs = try ensureRootfs(arguments[BenchCommand.rootfs])
        let dir = try Scratch.directory("moat-bench-workloads")
        defer { Scratch.removeTree(dir) }
        let state = try Scratch.directory("moat-bench-state", inMemory: true)
        defer { Scratch.removeTree(state) }
        let bench = WorkloadBench(rootfs: rootfs, dir: dir, state: state)
        try bench.installScript()
        let native = bench.native
        progress("bench: preparing the inputs (once per rootfs)\n")
        if case .failed(let why) = bench.once(native, "prepare") { throw Failure("bench: preparing the workloads failed: \(why)") }

        let moat = try selfPath()
        var runtimes = [native, BenchRuntime.container("moat", path: moat, state: state)]
        for name in arguments[BenchCommand.against].split(separator: ",").map(String.init) where !["native", "moat", "proot"].contains(name) {
            if BenchRuntime.moatProfiles[name] != nil {
                runtimes.append(BenchRuntime.container(name, path: moat, state: state))
                continue
            }
            guard let path = BenchRuntime.installedPath(name) else {
                progress("bench: \(name) is not installed, skipped\n")
                continue
            }
            runtimes.append(BenchRuntime.container(name, path: path, state: state))
        }
        var results = WorkloadResults(runtimes: runtimes.map(\.name), runs: rounds, warmup: warmups)
        for name in names {
            try bench.writeBundle(name)
            // Natively first, once: a workload the rootfs cannot run is skipped, not timed.
            switch bench.once(native, name) {
            case .missing(let program):
                progress("bench: \(name) skipped: \(program) is not in \(rootfs)\n")
                continue
            case .failed(let why):
                progress("bench: \(name) skipped: it fails natively: \(why)\n")
                continue
            case .measured: break
            }
            results.workloads.append(name)
            let slots = Schedule.interleaved(runtimes: runtimes.count, runs: rounds, warmup: warmups)
            for (index, slot) in slots.enumerated() {
                let runtime = runtimes[slot.runtime]
                if results.failures[name + " " + runtime.name] != nil { continue }
                progress("\rbench: \(name) \(index + 1)/\(slots.count) (\(runtime.name))          ")
                switch bench.once(runtime, name, id: "w\(index)") {
                case .measured(let ms):
                    if !slot.isWarmup { results.ms[name + " " + runtime.name, default: Samples()].values.append(ms) }
                case .failed(let why):
                    results.fail(name, runtime.name, why)
                case .missing(let program):
                    results.fail(name, runtime.name, "cannot find \(program) there (natively it can)")
                }
            }
            // Where Moat's time goes: the calls it served in one more run of each of its modes.
            for runtime in runtimes where runtime.name.hasPrefix("moat") && results.failures[name + " " + runtime.name] == nil {
                progress("\rbench: \(name) served calls (\(runtime.name))          ")
                results.served[name + " " + runtime.name] = bench.servedCalls(runtime, name)
            }
            progress("\r" + String(repeating: " ", count: 60) + "\r")
        }
        results.machine = BenchCommand.machineDetails(runtimes)
        results.rootfs = rootfs
        writeOut(results.table())
        if let path = arguments[BenchCommand.json] { try Scratch.write(results.json().rendered() + "\n", to: path) }
        if let path = arguments[BenchCommand.svg] { try Scratch.write(results.chart().svg, to: path) }
        return results.workloads.isEmpty ? 1 : 0
    }

    /// The rootfs to run in: the one given, or the default one, made with
    /// debootstrap from Debian's packages the first time.
    static func ensureRootfs(_ given: String?) throws -> String {
        // Absolute: the bundles name it from their own directory.
        let path = given.map { $0.hasPrefix("/") ? $0 : currentDirectory() + "/" + $0 } ?? defaultRootfs
        if access(path + "/bin/bash", X_OK) == 0 && (given != nil || access(path + "/.moat-bench-complete", F_OK) == 0) {
            return path
        }
        guard given == nil else { throw Failure("bench: \(path) is not a rootfs with /bin/bash") }
        guard let debootstrap = BenchRuntime.installedPath("debootstrap") else {
            throw Failure("bench: making \(path) needs debootstrap (apt-get install debootstrap), or give --rootfs")
        }
        let partial = path + ".partial"
        // A debootstrap that died may have left /proc or /dev mounted inside:
        // removing the tree then would reach the host's.
        for leftover in [partial, path] {
            if let mount = mountPoint(under: leftover) {
                throw Failure("bench: \(mount) is still mounted: unmount it (umount -R) before the rootfs is made again")
            }
            Scratch.removeTree(leftover)
        }
        _ = HostFile.makeDirectories(partial, mode: 0o755)
        progress("bench: making a Debian rootfs in \(path) with debootstrap (about a minute, once)\n")
        let log = partial + ".log"
        let status = Scratch.spawnAndWait(
            debootstrap,
            [
                "debootstrap", "--variant=minbase", "--include=" + packages.joined(separator: ","),
                "bookworm", partial, debianMirror()
            ], output: log, timeout: 1800)
        guard status == 0 else { throw Failure("bench: debootstrap failed (exit \(status)), see \(log)") }
        // No network in the sandbox: localhost must resolve from the file.
        try Scratch.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", to: partial + "/etc/hosts")
        try Scratch.write("made by moat bench --workloads\n", to: partial + "/.moat-bench-complete")
        guard rename(partial, path) == 0 else { throw Failure("bench: cannot move \(partial) to \(path): \(Errno.current)") }
        unlink(log)
        return path
    }

    /// A mount point at or below `path` (from this process's mountinfo), if any.
    static func mountPoint(under path: String) -> String? {
        guard let text = HostFile.read("/proc/self/mountinfo").map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            // Mount points escape spaces as \040; a prefix test needs none decoded.
            let point = String(fields[4])
            if point == path || point.hasPrefix(path + "/") { return point }
        }
        return nil
    }

    /// The machine's own Debian mirror (deb822 sources, then sources.list), else deb.debian.org.
    static func debianMirror() -> String {
        for file in ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"] {
            guard let text = HostFile.read(file).map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.first == "URIs:", words.count > 1 { return String(words[1]) }
                if words.first == "deb", let url = words.dropFirst().first(where: { $0.hasPrefix("http") }) { return String(url) }
            }
        }
        return "http://deb.debian.org/debian"
    }

    func installScript() throws {
        if let failed = HostFile.makeDirectories(rootfs + "/srv/moat-bench", mode: 0o755) {
            throw Failure("bench: cannot make \(failed.path): \(failed.error)")
        }
        try Scratch.write(String(decoding: PackageResources.workloads_sh, as: UTF8.self), to: rootfs + WorkloadBench.script)
    }

    /// The same bundle for every runtime: the Debian rootfs, writable (git
    /// refreshes its index), a tmpfs on /tmp, Docker's default capabilities
    /// (postgres drops to its own user).
    func writeBundle(_ name: String) throws {
        let bundle = dir + "/bundle-" + name
        mkdir(bundle, 0o755)
        let spec = DefaultSpec.json(
            args: ["/bin/bash", WorkloadBench.script, name], rootPath: rootfs, readonly: false,
            capabilities: DefaultSpec.dockerCapabilities, env: ["HOME=/root"])
        try Scratch.write(spec.rendered() + "\n", to: bundle + "/config.json")
    }

    /// Native: a chroot into the rootfs in its own mount and pid namespaces (so
    /// nothing it starts outlives it), with /dev, /proc and a fresh tmpfs /tmp.
    var native: BenchRuntime {
        let setup =
            #"r=$1; shift; mount -t tmpfs -o mode=1777 tmpfs "$r/tmp" && mount --rbind /dev "$r/dev" && "#
            + #"mount -t proc proc "$r/proc" && exec chroot "$r" /usr/bin/env -i "# + WorkloadBench.path
            + #" HOME=/root /bin/bash "# + WorkloadBench.script + #" "$@""#
        let rootfs = self.rootfs
        return BenchRuntime(name: "native", path: BenchRuntime.installedPath("unshare") ?? "/usr/bin/unshare") { _, args, _ in
            ["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "--", "/bin/sh", "-c", setup, "native", rootfs] + args
        }
    }

    /// Runs one workload (or `prepare`) once under `runtime` and reads what it measured.
    func once(_ runtime: BenchRuntime, _ name: String, id: String = "trial") -> WorkloadOutput {
        let log = dir + "/log"
        let status = Scratch.spawnAndWait(
            runtime.path, runtime.command(dir + "/bundle-" + name, [name], id), output: log,
            timeout: WorkloadBench.timeoutSeconds)
        let text = HostFile.read(log).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if name == "prepare" {
            return status == 0 ? .measured(ms: 0) : .failed(lastLine: text.split(separator: "\n").last.map(String.init) ?? "exit \(status)")
        }
        return WorkloadOutput.parse(text, exitStatus: status)
    }

    /// The calls the sentry served in one run of `name` under a moat runtime
    /// (its --syscall-report), most frequent first. Calls that trap only
    /// because the report records refusals (passthrough ones) are left out.
    func servedCalls(_ runtime: BenchRuntime, _ name: String) -> [(name: String, count: Int)] {
        let report = dir + "/served.json"
        var argv = runtime.command(dir + "/bundle-" + name, [name], "served")
        argv.insert(contentsOf: ["--syscall-report", report], at: argv.count - 1)
        guard Scratch.spawnAndWait(runtime.path, argv, output: dir + "/log", timeout: WorkloadBench.timeoutSeconds) == 0,
            let bytes = HostFile.read(report), case .array(let calls)? = (try? JSON.parse(bytes))?["trapped"]
        else { return [] }
        unlink(report)
        return calls.compactMap { call -> (name: String, count: Int)? in
            guard case .string(let name)? = call["name"], case .number(let count)? = call["count"], let n = Int(count),
                call["handling"] != .string("passthrough")
            else { return nil }
            return (name, n)
        }.sorted { $0.count > $1.count }
    }

    static func selfPath() throws -> String {
        guard let link = HostProcfs.readLink("self/exe") else { throw Failure("bench: cannot find its own binary: \(Errno.current)") }
        return String(decoding: link, as: UTF8.self)
    }

    static func progress(_ text: String) { BenchCommand.progress(text) }
}
