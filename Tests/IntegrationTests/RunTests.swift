import Foundation
import Testing

@Suite struct RunTests {
    let fixture = Fixture.shared

    /// process.terminal without a console socket: the workload gets a pty
    /// of the sandbox's own devpts (not the caller's terminal, which TIOCSTI
    /// could type into), relayed both ways at the caller's window size; the
    /// caller's terminal settings are restored afterwards. `script` plays the
    /// user's terminal.
    @Test func aTerminalOfItsOwnRelayedToTheCallers() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle(
            "relay",
            args: [
                "sh", "-c",
                "tty; stty size; stat -L -c inner=%d /proc/self/fd/0; escape tty-injection | head -1; read line; echo got:$line"
            ]
        ) {
            $0.setProcess("terminal", true)
        }
        let state = bundle.appendingPathComponent("state").path
        let saved = bundle.appendingPathComponent("stty").path
        let session =
            "stty rows 30 cols 100; stty -g > \(saved).before; stat -L -c outer=%d /proc/self/fd/0; "
            + "'\(fixture.moat)' run --root '\(state)' --bundle '\(bundle.path)' relay; echo status=\\$?; stty -g > \(saved).after"
        let result = Command.run(
            "/bin/sh", ["-c", "(sleep 2; printf 'hello\\r'; sleep 4) | /usr/bin/script -qec \"\(session)\" /dev/null | tr -d '\\r'"],
            timeout: 60)
        let lines = result.lines
        #expect(lines.contains { $0.hasPrefix("/dev/pts/") }, "\(result.stdout) \(result.stderr)")
        #expect(lines.contains("30 100"), "the caller's window size: \(lines)")
        let outer = result.value("outer")
        let inner = result.value("inner")
        #expect(outer != nil && inner != nil && outer != inner, "a pty of another devpts: \(lines)")
        #expect(lines.contains("TIOCSTI=EPERM"))
        #expect(lines.contains("got:hello"), "input reaches the workload: \(lines)")
        #expect(lines.contains("status=0"))
        #expect(
            (try? String(contentsOfFile: saved + ".before", encoding: .utf8)) == (try? String(contentsOfFile: saved + ".after", encoding: .utf8)),
            "the caller's terminal is restored")
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: state))?.contains { !$0.hasPrefix("filter-") } != true,
            "nothing left in the state root")

        // moat exec -t without a console socket: the same, for a joined process.
        let running = try fixture.bundle("relay-exec", args: ["sleep", "30"])
        let root = running.appendingPathComponent("state").path
        #expect(
            Command.run("/bin/sh", ["-c", "'\(fixture.moat)' --root '\(root)' create --bundle '\(running.path)' rx > /dev/null 2>&1"]).status == 0)
        defer { _ = Command.run(fixture.moat, ["--root", root, "delete", "--force", "rx"]) }
        #expect(Command.run(fixture.moat, ["--root", root, "start", "rx"]).status == 0)
        let execSession =
            "stty rows 33 cols 90; stat -L -c outer=%d /proc/self/fd/0; '\(fixture.moat)' --root '\(root)' exec -t rx "
            + "sh -c 'tty; stty size; stat -L -c inner=%d /proc/self/fd/0; read line; echo got:\\$line'; echo status=\\$?"
        let exec = Command.run(
            "/bin/sh", ["-c", "(sleep 2; printf 'typed\\r'; sleep 4) | /usr/bin/script -qec \"\(execSession)\" /dev/null | tr -d '\\r'"],
            timeout: 60)
        #expect(exec.lines.contains("33 90") && exec.lines.contains("got:typed") && exec.lines.contains("status=0"), "\(exec.stdout) \(exec.stderr)")
        #expect(exec.value("outer") != nil && exec.value("outer") != exec.value("inner"), "\(exec.stdout)")
    }

    /// Without a /dev mount in the config the runtime-spec's default
    /// devices are still there (runc makes them in the rootfs's /dev).
    @Test func defaultDevicesWithoutADevMount() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let copy = fixture.scratch("no-dev-mount").appendingPathComponent("rootfs").path
        #expect(Command.run("/bin/cp", ["-a", fixture.rootfs, copy]).status == 0)
        _ = Command.run("/bin/rm", ["-rf", copy + "/dev"])
        let bundle = try fixture.bundle(
            "no-dev",
            args: [
                "sh", "-c",
                "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && ls -l /dev/null /dev/zero /dev/full /dev/random /dev/tty | cut -c1 | tr -d '\\n'; echo; for link in fd stdin stdout stderr; do readlink /dev/$link; done"
            ]
        ) { config in
            config["root"] = ["path": copy, "readonly": true]
            config["mounts"] = (config["mounts"] as! [[String: Any]]).filter { !(($0["destination"] as? String) ?? "").hasPrefix("/dev") }
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(
            result.lines == ["4", "4", "ccccc", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"],
            "\(result.stdout)")
    }

    /// With /dev a tmpfs of the config's, the default devices are made with
    /// mknod as runc makes them (a mount each would cost boot time and
    /// teardown); with a nodev /dev, the host's nodes are bound instead. Both work.
    @Test(arguments: [false, true])
    func defaultDevicesAreNodesOrBinds(nodev: Bool) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let script =
            "echo x > /dev/null && head -c 4 /dev/zero | wc -c && stat -c %t:%T /dev/null /dev/tty"
            + " && grep -c ' /dev/\\(null\\|zero\\|full\\|random\\|urandom\\|tty\\) ' /proc/self/mountinfo"
        let bundle = try fixture.bundle("devices-\(nodev)", args: ["sh", "-c", script]) { config in
            guard nodev else { return }
            config["mounts"] = (config["mounts"] as! [[String: Any]]).map { mount in
                guard mount["destination"] as? String == "/dev" else { return mount }
                var changed = mount
                changed["options"] = ((mount["options"] as? [String]) ?? []) + ["nodev"]
                return changed
            }
        }
        let result = fixture.run(bundle)
        #expect(result.lines == ["4", "1:3", "5:0", nodev ? "6" : "0"], "\(result.stdout) \(result.stderr)")
    }

    @Test func busyboxRunsFromABundle() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.run(try fixture.bundle("hello", args: ["sh", "-c", "echo hello; cat /etc/passwd | head -1; echo $HOME$PATH"]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.first == "hello")
        #expect(result.lines.dropFirst().first == "root:x:0:0:root:/root:/bin/sh")
    }

    @Test func readonlyRootAndWritableTmp() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["sh", "-c", "touch /x 2>/dev/null; echo root=$?; touch /tmp/x; echo tmp=$?"])
        #expect(result.lines == ["root=1", "tmp=0"], "\(result.lines) \(result.stderr)")
    }

    @Test func signalsToTheSupervisorReachTheWorkload() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle(
            "forward", args: ["sh", "-c", "trap 'echo got TERM; exit 4' TERM; echo ready; while true; do sleep 0.05; done"])
        let state = bundle.appendingPathComponent("state")
        let running = Command.start(fixture.moat, ["run", "--root", state.path, "--bundle", bundle.path, "fwd"])
        #expect(eventually { FileManager.default.fileExists(atPath: state.appendingPathComponent("fwd/state.json").path) })
        usleep(300_000)
        kill(running.process.processIdentifier, SIGTERM)
        let result = running.finish()
        #expect(result.status == 4, "\(result.status) \(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("got TERM"))
    }

    /// --no-pivot: the root is moved over / and chrooted into; the host stays out of reach.
    @Test func noPivotKeepsTheHostOutOfReach() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let marker = fixture.scratch("nopivot-marker").appendingPathComponent("secret")
        try "host secret".write(to: marker, atomically: true, encoding: .utf8)
        let bundle = try fixture.bundle(
            "nopivot",
            args: [
                "sh", "-c",
                "cat \(marker.path) ../../..\(marker.path) /proc/1/root\(marker.path) 2>/dev/null; ls /bin/busybox; escape refused | grep -E '^(chroot|pivot_root|umount2)='"
            ])
        let result = fixture.run(bundle, extra: ["--no-pivot"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("host secret"))
        #expect(result.lines == ["/bin/busybox", "pivot_root=-1 EPERM", "chroot=-1 EPERM", "umount2=-1 EPERM"], "\(result.stdout)")
    }

    /// --preserve-fds n: fds 3 .. 3+n-1 reach the workload, nothing else does.
    @Test func preservedFDsReachTheWorkload() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("preserve", args: ["sh", "-c", "cat <&3; cat <&4; ls /proc/self/fd | tr '\\n' ' '"])
        let script =
            "exec 3< <(echo three) 4< <(echo four) 5< <(echo five); exec '\(fixture.moat)' run --root '\(bundle.path)/state' --bundle '\(bundle.path)' --preserve-fds 2 p1"
        let result = Command.run("/bin/bash", ["-c", "\(Fixture.closeInheritedFDs); \(script)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["three", "four", "0 1 2 3 4 5 "], "fd 5 here is ls's own directory: \(result.stdout)")
        let missing = Command.run(fixture.moat, ["run", "--root", bundle.path + "/state", "--bundle", bundle.path, "--preserve-fds", "40", "p2"])
        #expect(missing.status != 0 && missing.stderr.contains("--preserve-fds 40: fd"), "\(missing.stderr)")
        // fd 3 not given: the fd Moat opens for itself before main is not the caller's to pass on.
        let moats = Command.run(
            "/bin/bash",
            [
                "-c",
                "\(Fixture.closeInheritedFDs); exec '\(fixture.moat)' run --root '\(bundle.path)/state' --bundle '\(bundle.path)' --preserve-fds 1 p3"
            ])
        #expect(moats.status != 0 && moats.stderr.contains("--preserve-fds 1: fd 3 is not open"), "\(moats.stdout) \(moats.stderr)")
    }

    @Test func manyProcessesAndThreads() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let script = "for i in 1 2 3 4 5 6 7 8 9 10; do (echo $i | cat | wc -c > /dev/null) & done; wait; echo all done"
        let result = fixture.sandboxed(["sh", "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.last == "all done")
    }
}

/// The command line: spellings, help and mistakes.
@Suite struct RunArgumentTests {
    let fixture = Fixture.shared

    @Test(arguments: [
        ["--bundle", "B", "--root", "R"], ["--bundle=B", "--root=R"], ["-b", "B", "--root", "R"],
        ["--root", "R", "-b", "B"]
    ])
    func equivalentSpellingsRun(_ form: [String]) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("spelling", args: ["echo", "ran"])
        let args = form.map {
            $0.replacingOccurrences(of: "B", with: bundle.path)
                .replacingOccurrences(of: "R", with: bundle.appendingPathComponent("state").path)
        }
        let result = Command.run(fixture.moat, ["run"] + args + ["id1"])
        #expect(result.status == 0 && result.stdout == "ran\n", "\(form): \(result.stderr)")
    }

    @Test func helpAndMistakes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let help = Command.run(fixture.moat, ["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Usage: moat run [<options>] <container-id>"))
        #expect(help.stdout.contains("--bundle <dir>"))
        let overview = Command.run(fixture.moat, ["--help"])
        #expect(overview.status == 0)
        for command in ["run", "do", "spec", "syscalls"] { #expect(overview.stdout.contains("  \(command) ")) }
        #expect(Command.run(fixture.moat, ["--version"]).stdout.hasPrefix("moat version "))
        for (args, text) in [
            (["run", "--bogus", "x"], "unknown option --bogus"), (["run", "a", "b"], "unexpected argument b"),
            (["run"], "missing <container-id>"), (["run", "--root"], "--root needs a value"),
            (["frobnicate"], "unknown command frobnicate"), ([], "name a command")
        ] {
            let result = Command.run(fixture.moat, args)
            #expect(result.status == 2, "\(args)")
            #expect(result.stderr.hasPrefix("moat: ") && result.stderr.contains(text), "\(args): \(result.stderr)")
            #expect(result.stderr.filter { $0 == "\n" }.count == 1)
        }
    }

    @Test func doTakesTheRestAsTheCommand() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let plain = fixture.sandboxed(["echo", "-n", "--help"])
        #expect(plain.stdout == "--help", "\(plain.stdout) \(plain.stderr)")
        let withoutDashes = Command.run(fixture.moat, ["do", "--rootfs", fixture.rootfs, "echo", "-e", "a"])
        #expect(withoutDashes.stdout == "a\n")
    }
}
