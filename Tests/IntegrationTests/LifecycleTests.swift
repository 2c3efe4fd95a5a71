import Foundation
import Testing

@Suite struct ExitTests {
    let fixture = Fixture.shared

    @Test func exitStatusIsTheWorkloads() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        #expect(fixture.run(try fixture.bundle("exit3", args: ["sh", "-c", "exit 3"])).status == 3)
        #expect(fixture.run(try fixture.bundle("exit0", args: ["true"])).status == 0)
        // Killed by a signal: 128 + N (SIGSYS from an i386 syscall here).
        #expect(fixture.sandboxed(["escape", "int80"]).status == 128 + SIGSYS)
    }

    @Test func missingExecutableIs127WithAMessage() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.run(try fixture.bundle("missing", args: ["/bin/foo"]))
        #expect(result.status == 127)
        #expect(result.stderr == "moat: /bin/foo: no such file\n")
        let searched = fixture.sandboxed(["no-such-program"])
        #expect(searched.status == 127)
        #expect(searched.stderr == "moat: no-such-program: no such file\n")
    }

    @Test func badInputGetsOneLineAndNonZero() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        func check(_ result: Command.Result, mentions text: String) {
            #expect(result.status != 0)
            #expect(result.stderr.hasPrefix("moat: "), "\(result.stderr)")
            #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
            #expect(result.stderr.contains(text), "\(result.stderr) should name \(text)")
        }
        let missing = fixture.scratch("no-bundle").appendingPathComponent("nothing")
        check(
            Command.run(fixture.moat, ["run", "--root", fixture.scratch("st").path, "--bundle", missing.path, "x"]),
            mentions: missing.path)

        let malformed = fixture.scratch("malformed")
        try "{ \"ociVersion\": ".write(to: malformed.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        check(fixture.run(malformed), mentions: "malformed JSON")

        let noRoot = try fixture.bundle("no-root", args: ["true"]) { $0["root"] = ["readonly": true] }
        check(fixture.run(noRoot), mentions: "root.path")

        let relative = try fixture.bundle("relative-cwd", args: ["true"]) { $0.setProcess("cwd", "tmp") }
        check(fixture.run(relative), mentions: "process.cwd")

        let rlimit = try fixture.bundle("rlimit", args: ["true"]) {
            $0.setProcess("rlimits", [["type": "RLIMIT_BOGUS", "soft": 1, "hard": 1]])
        }
        check(fixture.run(rlimit), mentions: "RLIMIT_BOGUS")

        let cwdMissing = try fixture.bundle("cwd-missing", args: ["true"]) { $0.setProcess("cwd", "/no/such/dir") }
        check(fixture.run(cwdMissing), mentions: "/no/such/dir")
        // Nothing half-made is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cwdMissing.appendingPathComponent("state").path)
            .filter { !$0.hasSuffix(".bpf") }  // the cached seccomp program is meant to stay
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func duplicateIdIsRefusedWhileRunning() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("dup", args: ["sleep", "3"])
        let first = Command.start(
            fixture.moat,
            [
                "run", "--root", bundle.appendingPathComponent("state").path,
                "--bundle", bundle.path, "same"
            ])
        #expect(eventually { FileManager.default.fileExists(atPath: bundle.appendingPathComponent("state/same/state.json").path) })
        let second = fixture.run(bundle, id: "same")
        #expect(second.status != 0)
        #expect(second.stderr == "moat: container same already exists\n")
        #expect(first.finish().status == 0)
    }
}

/// Signals from the host side: stop/continue, SIGKILL, and the supervisor dying.
@Suite(.serialized) struct SignalTests {
    let fixture = Fixture.shared

    func initPid(stateDir: URL, id: String) -> pid_t? {
        let path = stateDir.appendingPathComponent("\(id)/state.json")
        guard let data = try? Data(contentsOf: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return (json["initPid"] as? NSNumber)?.int32Value
    }

    func tickerBundle(_ name: String) throws -> (URL, URL) {
        let out = fixture.scratch("\(name)-out")
        let bundle = try fixture.bundle(name, args: ["ticker", "/out/ticks"]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/out", "type": "bind", "source": out.path, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
        }
        return (bundle, out.appendingPathComponent("ticks"))
    }

    func size(_ url: URL) -> Int { (try? Data(contentsOf: url).count) ?? 0 }

    @Test func stopAndContinueTheWorkload() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let (bundle, ticks) = try tickerBundle("stopcont")
        let state = bundle.appendingPathComponent("state")
        let running = Command.start(fixture.moat, ["run", "--root", state.path, "--bundle", bundle.path, "tick"])
        #expect(eventually { initPid(stateDir: state, id: "tick") != nil && size(ticks) > 0 })
        let pid = try #require(initPid(stateDir: state, id: "tick"))
        kill(pid, SIGSTOP)
        usleep(200_000)
        let stopped = size(ticks)
        usleep(400_000)
        #expect(size(ticks) == stopped, "no progress while stopped")
        kill(pid, SIGCONT)
        #expect(eventually(5) { size(ticks) > stopped }, "progress after SIGCONT")
        kill(pid, SIGKILL)
        let result = running.finish()
        #expect(result.status == 137, "killed by SIGKILL: \(result.status) \(result.stderr)")
    }

    @Test func killingTheSupervisorKillsEveryWorkloadTask() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("supervisor-kill", args: ["spawner"])
        let state = bundle.appendingPathComponent("state")
        let running = Command.start(fixture.moat, ["run", "--root", state.path, "--bundle", bundle.path, "tree"])
        #expect(eventually { initPid(stateDir: state, id: "tree") != nil })
        let pid = try #require(initPid(stateDir: state, id: "tree"))
        let namespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")
        func tasksInSandbox() -> Int {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return pids.filter { Int($0) != nil }.reduce(0) { count, p in
                guard (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p)/ns/pid")) == namespace,
                    let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(p)/task")
                else { return count }
                return count + tasks.count
            }
        }
        // The init and its thread, three children with a thread each.
        #expect(eventually { tasksInSandbox() == 8 }, "tasks: \(tasksInSandbox())")
        kill(running.process.processIdentifier, SIGKILL)
        _ = running.finish()
        #expect(eventually { tasksInSandbox() == 0 }, "left behind: \(tasksInSandbox())")
    }
}
