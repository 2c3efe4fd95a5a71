import Foundation
import Testing

@Suite struct TimeTests {
    let fixture = Fixture.shared

    /// With the sentry vDSO (default) clock reads do not trap; with
    /// MOAT_VDSO=off every one reaches the sentry. Either way the clocks are
    /// the sandbox's, and the vDSO read and the syscall agree.
    @Test(arguments: ["on", "off"]) func clocksAreTheSandboxes(vdso: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let reportPath = fixture.scratch("clock").appendingPathComponent("report.json").path
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_VDSO=\(vdso)", fixture.moat, "do", "--rootfs", fixture.rootfs,
                "--syscall-report", reportPath, "--", "clock"
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let monotonic = Int64(result.value("monotonic_ns") ?? "") ?? -1
        #expect(monotonic >= 0 && monotonic < 1_000_000_000, "monotonic starts near zero: \(monotonic)")
        var hostMono = timespec()
        clock_gettime(CLOCK_MONOTONIC, &hostMono)
        #expect(hostMono.tv_sec > 5, "the host's monotonic clock is large")
        let boottime = Int64(result.value("boottime_ns") ?? "") ?? -1
        #expect(boottime >= 0 && boottime < 1_000_000_000)
        let realtime = Int64(result.value("realtime_s") ?? "") ?? 0
        #expect(abs(realtime - Int64(time(nil))) <= 2)
        #expect(
            result.value("gettimeofday_s") == result.value("realtime_s") || abs((Int64(result.value("gettimeofday_s") ?? "") ?? 0) - realtime) <= 1)
        #expect(abs((Int64(result.value("time_s") ?? "") ?? 0) - realtime) <= 1)
        #expect(result.value("clock_disorder") == "0")
        #expect(result.value("abstime_sleep") == "0")
        let slept = Int(result.value("slept_ms") ?? "") ?? -1
        #expect(slept >= 45 && slept < 1000, "an absolute sleep on the sandbox clock lasts ~50 ms: \(slept)")
        #expect(result.value("sysinfo_uptime").flatMap { Int($0) } ?? 99 <= 1)

        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as! [String: Any]
        let trapped = report["trapped"] as! [[String: Any]]
        let clockReads = trapped.first { $0["name"] as? String == "clock_gettime" }?["count"] as? Int ?? 0
        if vdso == "on" {
            // libc found the sentry vDSO; the host's stays mapped for it to call.
            #expect(result.value("vdso") != "0")
            #expect((Int(result.value("vdso_mappings") ?? "") ?? 0) >= 2)
            #expect(clockReads >= 1000 && clockReads < 1100, "only the probe's own syscalls trap: \(clockReads)")
        } else {
            #expect(result.value("vdso") == "0")
            #expect(result.value("vdso_mappings") == "0", "the vDSO and [vvar] pages are unmapped at exec")
            #expect(clockReads >= 3000, "every clock read reached the sentry: \(clockReads)")
        }
    }

    /// futex ops that may carry an absolute deadline trap only with one: a
    /// thousand untimed WAIT_BITSETs (glibc's condition and semaphore waits)
    /// run on the host, the five timed ones are shifted to the host's clock
    /// and wait their 20 ms.
    @Test func onlyTimedFutexWaitsTrap() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let reportPath = fixture.scratch("futexes").appendingPathComponent("report.json").path
        let result = fixture.sandboxed(["futexes"], extra: ["--syscall-report", reportPath])
        #expect(result.lines == ["untimed eagain=1000 timed timedout=5 waited=5"], "\(result.stdout) \(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        let trapped = (json?["trapped"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == "futex" }
        let count = trapped.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        #expect((5..<50).contains(count), "futex calls served: \(count)")
    }

    @Test func fixedRealtimeStartFromAnnotation() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("fixed-time", args: ["clock"]) { config in
            config["annotations"] = ["dev.moat.time.realtime-start": "2000-01-01T00:00:00Z"]
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let realtime = Int64(result.value("realtime_s") ?? "") ?? 0
        #expect(realtime >= 946_684_800 && realtime <= 946_684_802, "realtime: \(realtime)")
        // A fixed time means no vDSO at all: no page of the host's clocks stays mapped.
        #expect(result.value("vdso") == "0" && result.value("vdso_mappings") == "0")
        // And rdtsc is answered by the sentry with a counter that starts with the
        // sandbox: far below the host's, which counts from the host's boot.
        let hostCounter = UInt64(fixture.sandboxed(["clock"]).value("tsc") ?? "") ?? 0
        let sandboxCounter = UInt64(result.value("tsc") ?? "") ?? UInt64.max
        #expect(sandboxCounter > 0 && sandboxCounter < hostCounter / 4, "sandbox \(sandboxCounter), host \(hostCounter)")
        #expect(abs((Int64(result.value("time_s") ?? "") ?? 0) - realtime) <= 1)
        let date = fixture.run(
            try fixture.bundle("fixed-date", args: ["date", "-u", "+%Y-%m-%d"]) { config in
                config["annotations"] = ["dev.moat.time.realtime-start": "946684800"]
            })
        #expect(date.stdout == "2000-01-01\n", "\(date.stdout) \(date.stderr)")
    }

    @Test func vsyscallPageTimeIsTheSandboxes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("vsyscall", args: ["vsyscall"]) { config in
            config["annotations"] = ["dev.moat.time.realtime-start": "946684800"]
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let seconds = Int(result.value("sec") ?? "") ?? 0
        #expect(result.value("vsyscall_gettimeofday") == "0")
        #expect(seconds >= 946_684_800 && seconds <= 946_684_802, "vsyscall gettimeofday: \(seconds)")
        let time = Int(result.value("vsyscall_time") ?? "") ?? 0
        #expect(time >= 946_684_800 && time <= 946_684_802, "vsyscall time: \(time)")
    }

    /// A bad pointer given to a vsyscall faults as on Linux: SIGSEGV, for
    /// the init (the container exits 139) and for a child alike.
    @Test func aVsyscallWithABadPointerFaults() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        for call in ["g", "t"] {
            let asInit = fixture.sandboxed(["vsyscall", call])
            #expect(asInit.status == 139 && asInit.stdout == "before\n", "\(call): \(asInit.status) \(asInit.stdout)")
        }
        let child = fixture.sandboxed(["sh", "-c", "vsyscall g; echo child=$?"])
        #expect(child.lines == ["before", "child=139"], "\(child.stdout) \(child.stderr)")
    }

    /// /proc shows sandbox time: btime is the sandbox's boot (realtime minus
    /// uptime, so with a fixed start it is that start) and a process's
    /// starttime counts from it, not from the host's boot.
    @Test(arguments: [false, true]) func procTimesAreTheSandboxes(fixedStart: Bool) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle(
            "proc-times-\(fixedStart)",
            args: [
                "sh", "-c",
                "grep btime /proc/stat; sleep 0.3; cut -d' ' -f22 /proc/self/stat; cut -d' ' -f22 /proc/1/task/1/stat"
            ]
        ) { config in
            if fixedStart { config["annotations"] = ["dev.moat.time.realtime-start": "946684800"] }
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0 && result.lines.count == 3, "\(result.stdout) \(result.stderr)")
        let btime = Int64(result.lines.first?.split(separator: " ").last ?? "") ?? 0
        let expected = fixedStart ? Int64(946_684_800) : Int64(time(nil))
        #expect(abs(btime - expected) <= 3, "btime \(btime), expected about \(expected)")
        for line in result.lines.dropFirst() {
            let ticks = Int(line) ?? -1
            #expect(ticks >= 0 && ticks < 1000, "starttime in ticks since the sandbox's boot: \(line)")
        }
    }

    @Test func monotonicOffsetFromTimeOffsets() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("offsets", args: ["clock"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["timeOffsets"] = ["monotonic": ["secs": 1000, "nanosecs": 0]]
            config["linux"] = linux
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let monotonic = Int64(result.value("monotonic_ns") ?? "") ?? -1
        #expect(monotonic >= 1_000_000_000_000 && monotonic < 1_001_000_000_000, "monotonic: \(monotonic)")
    }
}
