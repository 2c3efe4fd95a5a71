import Foundation
import Testing

@Suite struct PidTests {
    let fixtureForStorm = Fixture.shared

    /// Signals every few microseconds while getpgid is served and kill runs (by
    /// user notification or ptrace): none of them fails, every signal arrives.
    @Test func servedCallsSurviveASignalStorm() throws {
        try #require(fixtureForStorm.setupError == nil, "\(fixtureForStorm.setupError ?? "")")
        let result = fixtureForStorm.sandboxed(["signalstorm"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "failures=0 esrch=0 eintr=0 other=0 handled=40000\n", "\(result.stdout)")
    }

    let fixture = Fixture.shared

    /// An init that faults ends as Linux ends it (under ptrace the kernel
    /// would leave it faulting forever): the container's status is the
    /// fault's signal, as under runc. A handler still runs; a signal merely
    /// sent is ignored by an init; a child that faults dies as usual.
    @Test(arguments: [("segv", 139), ("abort", 139), ("fpe", 136), ("ill", 132), ("blocked", 139), ("handled", 3), ("sent", 0)])
    func anInitThatFaultsEnds(mode: String, status: Int32) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("fault-\(mode)", args: ["fault", mode])
        let result = fixture.run(bundle, timeout: 20)
        #expect(result.status == status, "\(mode): \(result.status) \(result.stdout) \(result.stderr)")
        #expect(result.lines.first == "pid=1")
        let child = fixture.sandboxed(["fault", "child", mode == "handled" || mode == "sent" ? "segv" : mode], extra: [])
        #expect(child.status == 0 && child.lines.first?.hasPrefix("child ") == true, "\(child.stdout) \(child.stderr)")
    }

    /// A thread names itself by its tid in every call Linux finds a task
    /// by number (and a pid outside the sandbox stays ESRCH).
    @Test func aThreadsOwnTidIsFound() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["threadids"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "secondary=1", "kill=ok", "getpriority=ok", "setpriority=ok", "sched_getscheduler=ok",
                "sched_setscheduler=ok", "sched_getparam=ok", "prlimit=ok", "getsid=ok", "explicit_sched=ok",
                "kill_outside=No such process"
            ], "\(result.stdout)")
    }

    /// getppid, the kernel's answer in the sandbox's pid namespace: 0 for the
    /// init (its parent is outside), and after a reparenting a process whose
    /// parent exits sees the init as its parent.
    @Test func getppidFollowsReparenting() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["ppid"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.value("ppid") == "0" && result.value("before") == "2" && result.value("after") == "1", "\(result.stdout)")
    }

    @Test func initIsPidOneAndChildrenAreNumberedInsideTheSandbox() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["pids"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.contains("pid=1 ppid=0 tid=1"))
        #expect(result.lines.contains("child pid=2 ppid=1"))
        #expect(result.lines.contains("fork=2 wait=2 exit=7"))
        #expect(result.lines.contains("kill=0 signaled=1 sig=15"))
        #expect(result.lines.contains("kill_missing=-1 errno=ESRCH"))
        #expect(result.lines.contains("wait_missing=-1 errno=ECHILD"))
        #expect(result.lines.contains("pgid=1 sid=1"))
        let threads = result.lines.filter { $0.hasPrefix("thread ") }
        #expect(threads.count == 2)
        #expect(threads.allSatisfy { $0.hasPrefix("thread pid=1 ") })
        let tids = Set(threads.compactMap { $0.split(separator: "=").last.map(String.init) })
        #expect(tids.count == 2, "threads must have distinct tids: \(threads)")
        #expect(!tids.contains("1"))
    }

    @Test func execFromASecondaryThreadKeepsThePidAndTheSentry() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["exec_thread"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["before exec pid=1", "after exec pid=1", "still served pid=1"], "\(result.lines)")
    }

    @Test func shellSeesItsOwnPidNamespace() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["sh", "-c", "echo $$; sh -c 'echo $PPID'; ps -o pid,comm | wc -l"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.first == "1")
        #expect(result.lines.dropFirst().first == "1")
        // ps sees sh, ps and wc (plus its header): nothing of the host.
        #expect(Int(result.lines.last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 99 <= 5)
    }

    /// An init that never waits for orphans (a program run as pid 1, without
    /// an init in front of it) leaves no zombies: the sentry reaps them.
    @Test(arguments: ["notify", "ptrace"])
    func orphansOfANonReapingInitAreReaped(platform: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_PLATFORM=\(platform)", fixture.moat, "do", "--rootfs", fixture.rootfs,
                "--", "orphans", "8"
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["zombies=0"], "\(result.lines)")
    }
}
