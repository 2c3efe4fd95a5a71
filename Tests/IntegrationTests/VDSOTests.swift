import Foundation
import Testing

/// The sentry vDSO as every runtime sees it: readelf and objdump find the
/// kernel's tables in it, glibc and musl programs and a hand-written lookup
/// (as Go's) call each exported function, and static Go programs start and
/// keep sandbox time with it, without it, and under a fixed start time.
@Suite struct VDSOTests {
    let fixture = Fixture.shared
    static let exported = ["clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"]

    /// `command` run by sh with its stdout (binary) written to `file`.
    func capture(_ command: [String], to file: URL) -> Command.Result {
        let quoted = command.map { "'\($0)'" }.joined(separator: " ")
        return Command.run("/bin/sh", ["-c", "\(quoted) > '\(file.path)'"])
    }

    /// readelf's lines for one view of an ELF file; fails the test on a warning.
    func readelf(_ option: String, _ file: URL) -> [String] {
        let result = Command.run("/usr/bin/readelf", ["-W", option, file.path])
        #expect(result.status == 0 && result.stderr.isEmpty, "readelf \(option) \(file.lastPathComponent): \(result.stderr)")
        return result.lines
    }

    /// name -> "TYPE BIND VERSION" for every defined dynamic symbol.
    func dynamicSymbols(_ file: URL) -> [String: String] {
        var symbols: [String: String] = [:]
        for line in readelf("--dyn-syms", file) {
            let fields = line.split(separator: " ")
            guard fields.count == 8, fields[0].hasSuffix(":"), Int(fields[0].dropLast()) != nil, fields[6] != "UND" else { continue }
            let parts = fields[7].split(separator: "@", omittingEmptySubsequences: true)
            symbols[String(parts[0])] = "\(fields[3]) \(fields[4]) \(parts.count > 1 ? parts[1] : "-")"
        }
        return symbols
    }

    @Test func theImageHasTheKernelsTables() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let dir = fixture.scratch("vdso-image")
        let sandbox = dir.appendingPathComponent("sandbox.so")
        let host = dir.appendingPathComponent("host.so")
        #expect(capture([fixture.moat, "do", "--rootfs", fixture.rootfs, "--", "vdsocalls", "dump"], to: sandbox).status == 0)
        #expect(capture(["\(fixture.rootfs)/bin/vdsocalls", "dump"], to: host).status == 0)

        for file in [sandbox, host] {
            let header = readelf("-h", file).joined(separator: "\n")
            #expect(header.contains("DYN (Shared object file)") && header.contains("X86-64"), "\(header)")
        }
        // Each function under both names, typed, bound and versioned as the kernel's.
        let ours = dynamicSymbols(sandbox)
        let theirs = dynamicSymbols(host)
        for function in Self.exported {
            #expect(ours["__vdso_" + function] == "FUNC GLOBAL LINUX_2.6", "__vdso_\(function): \(ours)")
            #expect(ours[function] == "FUNC WEAK LINUX_2.6", "\(function): \(ours)")
            #expect(ours["__vdso_" + function] == theirs["__vdso_" + function], "the host's: \(theirs)")
            #expect(ours[function] == theirs[function])
        }
        #expect(Set(ours.keys) == Set(Self.exported.flatMap { [$0, "__vdso_" + $0] }), "nothing else: \(ours.keys)")
        // The dynamic tags a parser needs, all of them tags the kernel's vDSO has too.
        func tags(_ file: URL) -> Set<String> {
            Set(
                readelf("-d", file).compactMap { line in
                    line.split(separator: " ").dropFirst().first.flatMap { $0.hasPrefix("(") ? String($0) : nil }
                })
        }
        let ourTags = tags(sandbox)
        #expect(
            ourTags.isSuperset(of: [
                "(SONAME)", "(HASH)", "(GNU_HASH)", "(STRTAB)", "(SYMTAB)", "(VERSYM)",
                "(VERDEF)", "(VERDEFNUM)"
            ]), "\(ourTags)")
        #expect(ourTags.isSubset(of: tags(host)), "\(ourTags) against \(tags(host))")
        // The same version definitions: the base (the soname) and LINUX_2.6.
        func versions(_ file: URL) -> [String] {
            readelf("-V", file).filter { $0.contains("Rev:") }.map { line in
                String(line[line.range(of: "Flags:")!.lowerBound...]).split(separator: " ").joined(separator: " ")
            }
        }
        #expect(
            versions(sandbox) == [
                "Flags: BASE Index: 1 Cnt: 1 Name: linux-vdso.so.1",
                "Flags: none Index: 2 Cnt: 1 Name: LINUX_2.6"
            ], "\(versions(sandbox))")
        #expect(versions(sandbox) == versions(host))
        // objdump reads the sections: every name in .dynsym, code in .text.
        let objdump = Command.run("/usr/bin/objdump", ["-T", sandbox.path])
        #expect(objdump.status == 0 && objdump.stderr.isEmpty, "\(objdump.stderr)")
        for function in Self.exported {
            #expect(
                objdump.lines.contains { $0.hasSuffix(" __vdso_" + function) && $0.contains(".text") },
                "\(objdump.stdout)")
        }
    }

    /// A lookup that needs DT_HASH, DT_VERSYM and DT_VERDEF (as Go's does)
    /// finds every function; each agrees with the system call the sentry
    /// answers, in the probe and in its fork child; libc's own clock reads go
    /// through the vDSO (the probe's thousand reads do not trap).
    @Test(arguments: ["vdsocalls", "vdsocalls-musl"]) func everyFunctionGivesSandboxTime(probe: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let report = fixture.scratch(probe).appendingPathComponent("report.json")
        let result = fixture.sandboxed([probe], extra: ["--syscall-report", report.path])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.value("parsed") == "1" && result.value("version") == "2", "\(result.stdout)")
        for function in Self.exported {
            #expect(result.value("found_" + function) == "1" && result.value("alias_" + function) == "1")
        }
        for check in ["clock_order", "gettimeofday", "time", "clock_getres", "getcpu"] {
            #expect(result.value(check) == "1", "\(check): \(result.stdout)")
        }
        #expect(result.value("tz") == "0,0")
        let monotonic = Int64(result.value("monotonic_ns") ?? "") ?? -1
        #expect(monotonic >= 0 && monotonic < 10_000_000_000, "the sandbox's monotonic clock: \(monotonic)")
        #expect(result.value("child") == "0" && result.value("failures") == "0", "\(result.stdout)")
        #expect(trapped(report, "clock_gettime") < 100, "vDSO reads do not trap: \(trapped(report, "clock_gettime"))")
        #expect(trapped(report, "gettimeofday") <= 4 && trapped(report, "time") <= 4)
    }

    /// How many calls named `name` the syscall report counts as trapped.
    func trapped(_ report: URL, _ name: String) -> Int {
        guard let data = try? Data(contentsOf: report),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let calls = json["trapped"] as? [[String: Any]]
        else { return -1 }
        return calls.first { $0["name"] as? String == name }?["count"] as? Int ?? 0
    }

    enum TimeMode: String, CaseIterable { case vdso, syscalls, fixedStart }

    /// A static Go program: its clocks, goroutines on several threads, an
    /// HTTP round trip over loopback and an os/exec child (a new Go runtime
    /// after execve), with the sentry vDSO, without it, and with a fixed start time.
    @Test(arguments: TimeMode.allCases) func goPrograms(mode: TimeMode) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("go-\(mode)", args: ["goprobe"]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
            if mode == .fixedStart { config["annotations"] = ["dev.moat.time.realtime-start": "946684800"] }
        }
        let report = bundle.appendingPathComponent("report.json")
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_VDSO=\(mode == .syscalls ? "off" : "on")", fixture.moat, "run",
                "--root", bundle.appendingPathComponent("state").path,
                "--bundle", bundle.path, "--syscall-report", report.path, "go"
            ],
            timeout: 60)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.value("started") == "1", "the Go runtime started: \(result.stdout) \(result.stderr)")
        #expect(result.value("now_brackets_syscall") == "true", "time.Now agrees with the sentry: \(result.stdout)")
        let realtime = Int64(result.value("realtime_s") ?? "") ?? 0
        if mode == .fixedStart {
            #expect(realtime >= 946_684_800 && realtime <= 946_684_810, "\(realtime)")
        } else {
            #expect(abs(realtime - Int64(time(nil))) <= 5, "\(realtime)")
        }
        let monotonic = Int64(result.value("monotonic_ns") ?? "") ?? -1
        #expect(monotonic >= 0 && monotonic < 10_000_000_000, "\(monotonic)")
        let slept = Int(result.value("slept_ms") ?? "") ?? -1
        #expect(slept >= 50 && slept < 1000, "time.Sleep(50ms) measured by time.Since: \(slept)")
        #expect((Int(result.value("threads") ?? "") ?? 0) >= 2, "\(result.stdout)")
        #expect(result.value("http") == "pong")
        #expect(result.value("exec") == "hello_from_go")
        let reads = trapped(report, "clock_gettime")
        switch mode {
        case .vdso: #expect(reads >= 0 && reads < 50, "Go reads its clocks through the sentry vDSO: \(reads) trapped")
        case .syscalls, .fixedStart: #expect(reads >= 500, "without a vDSO every read traps: \(reads)")
        }
    }

    /// The same image is mapped for a program that `moat exec` starts in a running sandbox.
    @Test func goUnderExec() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("go-exec", args: ["sleep", "30"])
        let root = bundle.appendingPathComponent("state").path
        let created = Command.run("/bin/sh", ["-c", "'\(fixture.moat)' create --root '\(root)' --bundle '\(bundle.path)' ge > /dev/null 2>&1"])
        #expect(created.status == 0)
        defer { _ = Command.run(fixture.moat, ["--root", root, "delete", "--force", "ge"]) }
        #expect(Command.run(fixture.moat, ["--root", root, "start", "ge"]).status == 0)
        let hello = Command.run(fixture.moat, ["--root", root, "exec", "ge", "goprobe", "hello"], timeout: 30)
        #expect(hello.status == 0 && hello.stdout == "hello from go\n", "\(hello.stdout) \(hello.stderr)")
        let calls = Command.run(fixture.moat, ["--root", root, "exec", "ge", "vdsocalls"], timeout: 30)
        #expect(calls.status == 0 && calls.value("failures") == "0", "\(calls.stdout) \(calls.stderr)")
    }
}
