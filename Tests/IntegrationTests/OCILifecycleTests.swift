import Foundation
import Testing

/// create / start / state / kill / delete / list, as container engines drive them.
@Suite(.serialized) struct OCILifecycleTests {
    let fixture = Fixture.shared

    /// `moat create` leaves a supervisor that holds create's stdio, so its
    /// output goes to a file rather than a pipe the test would wait on.
    func create(_ bundle: URL, id: String, extra: [String] = []) -> (status: Int32, output: URL) {
        let output = bundle.appendingPathComponent("output-\(id)")
        let args = (["create", "--root", root(bundle), "--bundle", bundle.path] + extra + [id])
            .map { "'\($0)'" }.joined(separator: " ")
        let result = Command.run("/bin/sh", ["-c", "'\(fixture.moat)' \(args) > '\(output.path)' 2>&1"])
        return (result.status, output)
    }

    func root(_ bundle: URL) -> String { bundle.appendingPathComponent("state").path }

    func moat(_ bundle: URL, _ args: [String]) -> Command.Result {
        Command.run(fixture.moat, ["--root", root(bundle)] + args)
    }

    func state(_ bundle: URL, _ id: String) -> [String: Any]? {
        let result = moat(bundle, ["state", id])
        guard result.status == 0 else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    }

    /// Exited (a zombie waiting for whoever adopted it counts as gone).
    func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }

    func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    @Test func createStartStateDelete() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("lifecycle", args: ["sh", "-c", "echo started as $$; sleep 1.5; exit 5"]) {
            $0["annotations"] = ["org.example/purpose": "test"]
        }
        let pidFile = bundle.appendingPathComponent("pid")
        let created = create(bundle, id: "c1", extra: ["--pid-file", pidFile.path])
        #expect(created.status == 0, "\(text(created.output))")
        let supervisor = try #require(Int32(text(pidFile)))
        let before = try #require(state(bundle, "c1"))
        #expect(before["status"] as? String == "created")
        #expect((before["pid"] as? NSNumber)?.int32Value == supervisor)
        #expect(before["bundle"] as? String == bundle.path)
        #expect((before["annotations"] as? [String: String])?["org.example/purpose"] == "test")
        #expect(text(created.output).isEmpty, "nothing runs before start")
        #expect(moat(bundle, ["list", "-q"]).stdout == "c1\n")

        #expect(moat(bundle, ["start", "c1"]).status == 0)
        #expect(eventually { text(created.output) == "started as 1\n" })
        #expect(state(bundle, "c1")?["status"] as? String == "running")
        let early = moat(bundle, ["delete", "c1"])
        #expect(early.status != 0 && early.stderr.contains("is running"))
        #expect(moat(bundle, ["start", "c1"]).status != 0, "start twice")

        #expect(eventually { state(bundle, "c1")?["status"] as? String == "stopped" })
        #expect(state(bundle, "c1")?["pid"] == nil)
        #expect(eventually { isGone(supervisor) }, "the supervisor exited with the workload")
        #expect(moat(bundle, ["delete", "c1"]).status == 0)
        #expect(state(bundle, "c1") == nil)
        #expect(moat(bundle, ["list", "-q"]).stdout == "")
    }

    @Test func killAndForcedDelete() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("kill", args: ["sh", "-c", "trap 'echo term; exit 7' TERM; sleep 1000 & wait"])
        #expect(create(bundle, id: "k1").status == 0)
        // Killed while created: it never starts.
        #expect(moat(bundle, ["kill", "k1", "KILL"]).status == 0)
        #expect(eventually { state(bundle, "k1")?["status"] as? String == "stopped" })
        #expect(moat(bundle, ["kill", "k1"]).status != 0, "nothing left to signal")
        #expect(moat(bundle, ["delete", "k1"]).status == 0)

        let run = create(bundle, id: "k2")
        #expect(run.status == 0)
        #expect(moat(bundle, ["start", "k2"]).status == 0)
        usleep(200_000)
        #expect(moat(bundle, ["kill", "k2", "SIGTERM"]).status == 0)
        #expect(eventually { text(run.output).contains("term") })
        #expect(eventually { state(bundle, "k2")?["status"] as? String == "stopped" })
        #expect(moat(bundle, ["delete", "k2"]).status == 0)

        #expect(create(bundle, id: "k3").status == 0)
        #expect(moat(bundle, ["start", "k3"]).status == 0)
        let pid = try #require((state(bundle, "k3")?["pid"] as? NSNumber)?.int32Value)
        // ps: the host pids of the shell and its sleep, none of them the supervisor's.
        #expect(
            eventually {
                let listed = (try? JSONSerialization.jsonObject(with: Data(moat(bundle, ["ps", "--format", "json", "k3"]).stdout.utf8))) as? [Int]
                return listed?.count == 2 && listed?.contains(Int(pid)) == false
            })
        #expect(moat(bundle, ["ps", "k3"]).stdout.contains("sleep"))
        let stats = try JSONSerialization.jsonObject(with: Data(moat(bundle, ["events", "--stats", "k3"]).stdout.utf8)) as? [String: Any]
        let data = stats?["data"] as? [String: Any]
        #expect((data?["pids"] as? [String: Any])?["current"] as? Int == 2)
        #expect((((data?["memory"] as? [String: Any])?["usage"] as? [String: Any])?["usage"] as? Int ?? 0) > 0)
        #expect(moat(bundle, ["delete", "--force", "k3"]).status == 0)
        #expect(state(bundle, "k3") == nil)
        #expect(eventually { isGone(pid) })
        #expect(moat(bundle, ["kill", "k3", "BOGUS"]).status != 0)
    }

    @Test func pauseAndResume() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let out = fixture.scratch("pause-out")
        let bundle = try fixture.bundle("pause", args: ["ticker", "/out/ticks"]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/out", "type": "bind", "source": out.path, "options": ["rbind", "rw"]])
            config["mounts"] = mounts
        }
        let ticks = out.appendingPathComponent("ticks")
        func size() -> Int { (try? Data(contentsOf: ticks).count) ?? 0 }
        #expect(create(bundle, id: "p1").status == 0)
        #expect(moat(bundle, ["pause", "p1"]).status != 0, "only a running container pauses")
        #expect(moat(bundle, ["start", "p1"]).status == 0)
        #expect(eventually { size() > 0 })
        #expect(moat(bundle, ["pause", "p1"]).status == 0)
        #expect(state(bundle, "p1")?["status"] as? String == "paused")
        usleep(200_000)
        let frozen = size()
        usleep(300_000)
        #expect(size() == frozen, "no progress while paused")
        #expect(moat(bundle, ["resume", "p1"]).status == 0)
        #expect(state(bundle, "p1")?["status"] as? String == "running")
        #expect(eventually { size() > frozen })
        #expect(moat(bundle, ["delete", "--force", "p1"]).status == 0)
    }

    @Test func runDetachedAndKept() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("run-d", args: ["sh", "-c", "sleep 0.3; exit 4"])
        let pidFile = bundle.appendingPathComponent("pid")
        let output = bundle.appendingPathComponent("out")
        let started = Command.run(
            "/bin/sh",
            [
                "-c",
                "'\(fixture.moat)' run -d --root '\(root(bundle))' --bundle '\(bundle.path)' --pid-file '\(pidFile.path)' r1 >'\(output.path)' 2>&1"
            ])
        #expect(started.status == 0, "\(text(output))")
        #expect(state(bundle, "r1")?["status"] as? String == "running")
        #expect((state(bundle, "r1")?["pid"] as? NSNumber)?.int32Value == Int32(text(pidFile)))
        #expect(eventually { state(bundle, "r1")?["status"] as? String == "stopped" })
        #expect(moat(bundle, ["delete", "r1"]).status == 0)

        let keptRun = Command.run(fixture.moat, ["run", "--keep", "--root", root(bundle), "--bundle", bundle.path, "r3"])
        #expect(keptRun.status == 4)
        #expect(state(bundle, "r3")?["status"] as? String == "stopped")
        #expect(moat(bundle, ["delete", "r3"]).status == 0)
        let plain = Command.run(fixture.moat, ["run", "--root", root(bundle), "--bundle", bundle.path, "r4"])
        #expect(plain.status == 4)
        #expect(state(bundle, "r4") == nil, "run without --keep leaves nothing")
    }

    @Test func hooksRunWithTheStateOnStdin() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let out = fixture.scratch("hooks-out")
        func hook(_ name: String) -> [String: Any] {
            ["path": "/bin/sh", "args": ["sh", "-c", "cat > \(out.path)/\(name).json"]]
        }
        let bundle = try fixture.bundle("hooks", args: ["true"]) { config in
            config["hooks"] = [
                "prestart": [hook("prestart")], "createRuntime": [hook("createRuntime")],
                "poststart": [hook("poststart")], "poststop": [hook("poststop")]
            ]
        }
        let result = fixture.run(bundle, id: "h1")
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["prestart", "createRuntime", "poststart", "poststop"] {
            let data = try Data(contentsOf: out.appendingPathComponent("\(name).json"))
            let state = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(state?["id"] as? String == "h1", "\(name)")
            #expect(state?["bundle"] as? String == bundle.path, "\(name)")
        }
        // The pid a hook gets is the workload's, in whose namespaces it can act.
        let prestart = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("prestart.json"))) as? [String: Any]
        #expect((prestart?["pid"] as? Int ?? 0) > 0)

        let failing = try fixture.bundle("hooks-fail", args: ["sh", "-c", "echo should not run"]) { config in
            config["hooks"] = ["createRuntime": [["path": "/bin/sh", "args": ["sh", "-c", "exit 3"]]]]
        }
        let refused = fixture.run(failing, id: "h2")
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("hooks.createRuntime[0] /bin/sh: exited with 3"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("should not run"))

    }

    /// createContainer runs in the container's namespaces with the host's
    /// paths (before pivot_root); startContainer inside the container, with
    /// its paths, before the program. Both get the state on stdin.
    @Test func hooksRunInsideTheContainer() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let out = fixture.scratch("hooks-inside-out")
        let bundle = try fixture.bundle("hooks-inside", args: ["sh", "-c", "cat /tmp/started; echo program pid=$$"]) { config in
            config["hostname"] = "hooked"
            config["hooks"] = [
                "createContainer": [
                    [
                        "path": "/bin/sh",
                        "args": [
                            "sh", "-c",
                            "cat > \(out.path)/createContainer.json; echo $$ $(hostname) > \(out.path)/createContainer.seen"
                        ]
                    ]
                ],
                "startContainer": [["path": "/bin/sh", "args": ["sh", "-c", "{ echo started pid=$$; cat; echo; } > /tmp/started"]]]
            ]
        }
        let result = fixture.run(bundle, id: "h3")
        #expect(result.status == 0, "\(result.stderr)")
        // The hook is the sandbox's pid 2 and sees its hostname.
        let seen = try String(contentsOf: out.appendingPathComponent("createContainer.seen"), encoding: .utf8)
        #expect(seen == "2 hooked\n")
        let created = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("createContainer.json"))) as? [String: Any]
        #expect(created?["id"] as? String == "h3" && created?["status"] as? String == "creating")
        // A pid of the sandbox's namespace (after the createContainer hook's).
        let startedPid = result.lines.first.flatMap { $0.hasPrefix("started pid=") ? Int($0.dropFirst(12)) : nil }
        #expect(startedPid.map { (3..<50).contains($0) } == true, "\(result.stdout)")
        #expect(result.stdout.contains("\"id\":\"h3\""), "startContainer got the state: \(result.stdout)")
        #expect(result.lines.last == "program pid=1")

        let failing = try fixture.bundle("hooks-inside-fail", args: ["sh", "-c", "echo should not run"]) { config in
            config["hooks"] = ["startContainer": [["path": "/bin/nope"]]]
        }
        let refused = fixture.run(failing, id: "h4")
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("hooks.startContainer[0] /bin/nope: no such file in the container"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("should not run"))
    }

    @Test func execJoinsTheRunningSandbox() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("exec", args: ["sleep", "30"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = ["memory": ["limit": 64 * 1024 * 1024]]
            config["linux"] = linux
        }
        // Made from a caller in a cgroup of its own (as under a service manager).
        let callerCgroup = "/sys/fs/cgroup/pids/moat-test-\(getpid())-caller"
        try? FileManager.default.createDirectory(atPath: callerCgroup, withIntermediateDirectories: false)
        defer { rmdir(callerCgroup) }
        let made = Command.run(
            "/bin/sh",
            [
                "-c",
                "echo $$ > '\(callerCgroup)/cgroup.procs' 2>/dev/null; exec '\(fixture.moat)' --root '\(root(bundle))' create --bundle '\(bundle.path)' x1 > /dev/null 2>&1"
            ])
        #expect(made.status == 0)
        #expect(moat(bundle, ["exec", "x1", "true"]).status != 0, "no exec before start")
        #expect(moat(bundle, ["start", "x1"]).status == 0)
        let joined = moat(
            bundle,
            [
                "exec", "--env", "GREETING=hello", "x1", "sh", "-c",
                "echo $GREETING pid=$$ ppid=$PPID; cat /proc/1/cmdline | tr '\\0' ' '; echo; served_loop 10 >/dev/null && exit 6"
            ])
        #expect(joined.status == 6, "\(joined.stderr)")
        #expect(joined.lines == ["hello pid=2 ppid=0", "sleep 30 "], "\(joined.lines)")
        // No linux.cgroupsPath: the supervisor is in its caller's cgroup, which update must never change.
        let update = moat(bundle, ["update", "--pids-limit", "5", "x1"])
        #expect(update.status == 1 && update.stderr.contains("has no cgroup of its own"), "\(update.stderr)")
        #expect((try? String(contentsOfFile: callerCgroup + "/pids.max", encoding: .utf8)) ?? "max\n" == "max\n", "the caller's cgroup is untouched")
        let missing = moat(bundle, ["exec", "x1", "/bin/nope"])
        #expect(missing.status == 127)
        #expect(missing.stderr == "moat: /bin/nope: no such file\n")
        let user = moat(bundle, ["exec", "--user", "1000:1000", "--cwd", "/tmp", "x1", "sh", "-c", "id -u; pwd"])
        #expect(user.lines == ["1000", "/tmp"], "\(user.stdout) \(user.stderr)")
        // A runtime-spec process file: typed as the spec types it, a wrongly typed field is refused.
        let process = bundle.appendingPathComponent("process.json")
        try #"{"args": ["sh", "-c", "id -u; pwd"], "cwd": "/tmp", "user": {"uid": "1000"}}"#.write(to: process, atomically: true, encoding: .utf8)
        let wrong = moat(bundle, ["exec", "--process", process.path, "x1"])
        #expect(wrong.status == 1 && wrong.stderr == "moat: --process \(process.path).user.uid: must be a number\n", "\(wrong.stderr)")
        try #"{"args": ["sh", "-c", "id -u; pwd"], "cwd": "/tmp", "user": {"uid": 1000, "gid": 1000}}"#.write(
            to: process, atomically: true, encoding: .utf8)
        let typed = moat(bundle, ["exec", "--process", process.path, "x1"])
        #expect(typed.status == 0 && typed.lines == ["1000", "/tmp"], "\(typed.stdout) \(typed.stderr)")
        // As docker exec writes it: groups and umask apply, container-wide fields are ignored.
        try
            #"{"args": ["sh", "-c", "id -G; umask"], "user": {"uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 23}, "capabilities": {"bounding": []}, "noNewPrivileges": false}"#
            .write(to: process, atomically: true, encoding: .utf8)
        let docker = moat(bundle, ["exec", "--process", process.path, "x1"])
        #expect(docker.status == 0 && docker.lines == ["1000 5 6", "0027"], "\(docker.stdout) \(docker.stderr)")
        // Requests any local root process could send to the running supervisor: each is refused with one line, and the sandbox lives on.
        let socket = root(bundle) + "/x1/control.sock"
        for request in [#"exec {"args":["x"],"cwd":"\ud800\u0041"}"#, #"exec {"args":["x"],"user":{"uid":"0"}}"#, "exec [", "nonsense"] {
            let script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
                socket.send_fds(s, [sys.argv[2].encode() + b"\\n"], [0, 1, 2])
                print(s.makefile().readline().strip())
                """
            let answer = Command.run("/usr/bin/python3", ["-c", script, socket, request])
            #expect(answer.stdout.hasPrefix("error "), "\(request): \(answer.stdout) \(answer.stderr)")
        }
        #expect(state(bundle, "x1")?["status"] as? String == "running")
        // Its file calls reach the sentry too (only the sentry shows the memory limit in /proc/meminfo).
        let meminfo = moat(bundle, ["exec", "x1", "head", "-1", "/proc/meminfo"])
        #expect(meminfo.lines == ["MemTotal:          65536 kB"], "\(meminfo.stdout) \(meminfo.stderr)")
        #expect(moat(bundle, ["delete", "--force", "x1"]).status == 0)
    }

    /// Docker's state root and ids make the control socket's path longer
    /// than sun_path holds (/var/run/docker/runtime-runc/moby/<64 hex>/control.sock).
    @Test func longStateRootsAndIdsWork() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("long-root", args: ["sleep", "30"])
        let root = bundle.appendingPathComponent(String(repeating: "r", count: 80)).path
        let id = String(repeating: "0123456789abcdef", count: 4)
        #expect((root + "/" + id + "/control.sock").utf8.count > 108)
        let created = Command.run("/bin/sh", ["-c", "'\(fixture.moat)' --root '\(root)' create --bundle '\(bundle.path)' \(id) > /dev/null 2>&1"])
        #expect(created.status == 0)
        defer { _ = Command.run(fixture.moat, ["--root", root, "delete", "--force", id]) }
        #expect(Command.run(fixture.moat, ["--root", root, "start", id]).status == 0)
        let exec = Command.run(fixture.moat, ["--root", root, "exec", id, "echo", "joined"])
        #expect(exec.status == 0 && exec.stdout == "joined\n", "\(exec.stdout) \(exec.stderr)")
        #expect(Command.run(fixture.moat, ["--root", root, "kill", id, "KILL"]).status == 0)
        #expect(eventually { Command.run(fixture.moat, ["--root", root, "state", id]).stdout.contains("\"stopped\"") })
        #expect(Command.run(fixture.moat, ["--root", root, "delete", id]).status == 0)
    }

    /// Mount propagation as runc applies it: the root is a slave of the
    /// host's unless linux.rootfsPropagation says otherwise, and each mount's
    /// propagation option is set on it. The host's mounts come in where
    /// that lets them; none of the sandbox's go out (it cannot mount).
    @Test(arguments: [
        ("rshared", "rshared", "shared:master:", "seen"), ("", "", "master:", "seen"), ("", "rprivate", "", "not seen"),
        ("runbindable", "", "", "not seen")
    ])
    func mountPropagationLetsTheHostsMountsIn(root: String, option: String, tags: String, outcome: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let volume = fixture.scratch("propagation-\(option)").appendingPathComponent("vol")
        try FileManager.default.createDirectory(at: volume.appendingPathComponent("sub"), withIntermediateDirectories: true)
        // A shared mount of its own on the host, whatever the test directory is.
        #expect(Command.run("/bin/sh", ["-c", "mount --bind '\(volume.path)' '\(volume.path)' && mount --make-shared '\(volume.path)'"]).status == 0)
        defer { _ = Command.run("/bin/sh", ["-c", "umount '\(volume.path)/sub' 2>/dev/null; umount '\(volume.path)'"]) }
        let bundle = try fixture.bundle(
            "propagation-\(option)",
            args: [
                "sh", "-c",
                """
                echo "tags=$(grep ' /root ' /proc/self/mountinfo | grep -o -E 'shared:|master:' | tr -d '\\n')"
                while [ ! -e /root/ready ]; do sleep 0.05; done
                [ -e /root/sub/hello ] && echo seen || echo not seen
                """
            ]
        ) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/root", "type": "bind", "source": volume.path, "options": ["rbind"] + (option.isEmpty ? [] : [option])])
            config["mounts"] = mounts
            if !root.isEmpty {
                var linux = config["linux"] as! [String: Any]
                linux["rootfsPropagation"] = root
                config["linux"] = linux
            }
        }
        // The host mounts a tmpfs under the volume once the container runs, then says so.
        let host =
            "while ! grep -q ' /root ' /proc/*/mountinfo 2>/dev/null; do sleep 0.05; done; "
            + "mount -t tmpfs none '\(volume.path)/sub' && touch '\(volume.path)/sub/hello' '\(volume.path)/ready'"
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: "/bin/sh")
        helper.arguments = ["-c", host]
        try helper.run()
        let result = fixture.run(bundle, timeout: 30)
        helper.waitUntilExit()
        #expect(result.status == 0 && result.lines == ["tags=\(tags)", outcome], "\(result.stdout) \(result.stderr)")
    }

    @Test func featuresDescribeTheRuntime() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = Command.run(fixture.moat, ["features"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let linux = try #require(json["linux"] as? [String: Any])
        #expect((linux["namespaces"] as? [String])?.contains("pid") == true)
        #expect((linux["namespaces"] as? [String])?.contains("user") == true, "the parser accepts user namespaces")
        #expect((linux["seccomp"] as? [String: Any])?["enabled"] as? Bool == true)
        #expect(json["hooks"] as? [String] == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
    }

    /// With a terminal, the supervisor keeps none of create's stdio:
    /// containerd reads create's output to EOF before it goes on (docker
    /// run -t hung forever). The workload's pty reaches the console socket.
    @Test func aTerminalContainerReleasesCreatesOutput() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("tty-create", args: ["sh", "-c", "tty; echo tty-done; sleep 1"]) { $0.setProcess("terminal", true) }
        let socket = bundle.appendingPathComponent("console.sock").path
        let receiver = """
            import array, os, socket, sys
            server = socket.socket(socket.AF_UNIX); server.bind(sys.argv[1]); server.listen(1)
            print("listening", flush=True)
            connection, _ = server.accept()
            _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
            output = b""
            while b"tty-done" not in output:
                try:
                    chunk = os.read(fds[0], 1024)
                except OSError:
                    break
                if not chunk: break
                output += chunk
            print(output.decode(errors="replace").replace("\\r", ""), flush=True)
            """
        let console = Command.start("/usr/bin/timeout", ["20", "/usr/bin/python3", "-c", receiver, socket])
        #expect(eventually { FileManager.default.fileExists(atPath: socket) })
        let created = Command.run(
            "/usr/bin/timeout",
            [
                "15", "/bin/sh", "-c",
                "'\(fixture.moat)' --root '\(root(bundle))' create --console-socket '\(socket)' --bundle '\(bundle.path)' tty1 2>&1 | cat; echo create-output-closed"
            ])
        #expect(created.status == 0 && created.lines.last == "create-output-closed", "\(created.status) \(created.stdout)")
        defer { _ = moat(bundle, ["delete", "--force", "tty1"]) }
        #expect(moat(bundle, ["start", "tty1"]).status == 0)
        let seen = console.finish(timeout: 20)
        #expect(seen.stdout.contains("/dev/pts/") && seen.stdout.contains("tty-done"), "\(seen.stdout) \(seen.stderr)")
    }

    @Test func createFailuresLeaveNothing() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("create-fail", args: ["true"]) { $0.setProcess("cwd", "/no/such/dir") }
        let failed = create(bundle, id: "f1")
        #expect(failed.status != 0)
        #expect(text(failed.output).contains("process.cwd /no/such/dir"), "\(text(failed.output))")
        #expect(state(bundle, "f1") == nil)
        #expect(moat(bundle, ["list", "-q"]).stdout == "")

        let terminal = try fixture.bundle("create-tty", args: ["true"]) { $0.setProcess("terminal", true) }
        let noSocket = create(terminal, id: "t1")
        #expect(noSocket.status != 0 && text(noSocket.output).contains("needs --console-socket"))
        #expect(state(terminal, "t1") == nil)

        let good = try fixture.bundle("create-dup", args: ["true"])
        #expect(create(good, id: "d1").status == 0)
        let duplicate = create(good, id: "d1")
        #expect(duplicate.status != 0)
        #expect(text(duplicate.output).contains("already exists"))
        #expect(state(good, "d1")?["status"] as? String == "created", "the first is untouched")
        #expect(moat(good, ["delete", "--force", "d1"]).status == 0)

        for command in [["state"], ["start"], ["kill"], ["delete"], ["pause"], ["exec"]] {
            let unknown = moat(good, command + ["nope"] + (command == ["exec"] ? ["true"] : []))
            #expect(unknown.status != 0 && unknown.stderr == "moat: container nope does not exist\n", "\(command): \(unknown.stderr)")
        }
    }

    /// A supervisor killed with SIGKILL takes its workload with it; the
    /// container is then reported stopped and `delete` removes every trace.
    @Test func deleteAfterTheSupervisorWasKilled() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("crashed", args: ["sleep", "100"])
        #expect(create(bundle, id: "s1").status == 0)
        #expect(moat(bundle, ["start", "s1"]).status == 0)
        let supervisor = try #require((state(bundle, "s1")?["pid"] as? NSNumber)?.int32Value)
        let workload = try #require(StateFile.initPid(bundle, "s1"))
        kill(supervisor, SIGKILL)
        #expect(eventually { isGone(supervisor) && isGone(workload) }, "nothing is left running")
        #expect(state(bundle, "s1")?["status"] as? String == "stopped")
        #expect(moat(bundle, ["start", "s1"]).status != 0, "a stopped container cannot start")
        #expect(moat(bundle, ["delete", "s1"]).status == 0)
        #expect(state(bundle, "s1") == nil)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: bundle.appendingPathComponent("state").path)) ?? []
        #expect(left.allSatisfy { $0.hasPrefix("filter-") }, "only the filter cache stays: \(left)")
    }
}

/// Faults: a full state root, a corrupt state file, racing commands, a bundle that vanishes.
extension OCILifecycleTests {
    @Test func aFullStateRootIsAClearError() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("full-root", args: ["true"])
        let tiny = fixture.scratch("tiny")
        #expect(Command.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", tiny.path]).status == 0)
        defer { _ = Command.run("/bin/umount", [tiny.path]) }
        _ = Command.run("/bin/dd", ["if=/dev/zero", "of=\(tiny.path)/fill", "bs=1k", "count=64"])
        let stateRoot = tiny.appendingPathComponent("state").path
        for command in ["run", "create"] {
            let result = Command.run(fixture.moat, [command, "--root", stateRoot, "--bundle", bundle.path, "full-\(command)"])
            #expect(result.status == 125, "\(command): \(result.status)")
            #expect(
                result.stderr.hasSuffix("state.json.tmp: No space left on device\n")
                    && result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []
        #expect(left.allSatisfy { $0.hasPrefix("filter-") }, "no half-made container: \(left)")
    }

    @Test func aCorruptStateFileStillDeletes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("corrupt", args: ["sleep", "30"])
        #expect(create(bundle, id: "x1").status == 0)
        let supervisor = try #require((state(bundle, "x1")?["pid"] as? NSNumber)?.int32Value)
        try "{\"ociVersion\": trunc".write(toFile: root(bundle) + "/x1/state.json", atomically: true, encoding: .utf8)
        let shown = moat(bundle, ["state", "x1"])
        #expect(shown.status == 1 && shown.stderr.contains("corrupt state file") && shown.stderr.contains("delete --force"))
        #expect(moat(bundle, ["list"]).stdout.contains("x1\t\(supervisor)\tunknown"), "\(moat(bundle, ["list"]).stdout)")
        #expect(moat(bundle, ["delete", "x1"]).status == 1, "not without --force while its supervisor lives")
        #expect(moat(bundle, ["delete", "--force", "x1"]).status == 0)
        #expect(eventually { isGone(supervisor) })
        #expect(moat(bundle, ["state", "x1"]).stderr == "moat: container x1 does not exist\n")
    }

    @Test func racingCreatesOfOneIdLeaveOneContainer() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("race", args: ["sleep", "30"])
        let out = bundle.appendingPathComponent("race-out").path
        // Eight creates at once, each reporting its exit status.
        let script =
            (0..<8).map { i in
                "('\(fixture.moat)' create --root '\(root(bundle))' --bundle '\(bundle.path)' r1 >/dev/null 2>'\(out)-\(i)'; echo $? >> '\(out)') &"
            }.joined(separator: " ") + " wait"
        _ = Command.run("/bin/bash", ["-c", "\(Fixture.closeInheritedFDs); \(script)"])
        let statuses = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n") ?? []
        #expect(statuses.count == 8 && statuses.filter { $0 == "0" }.count == 1, "\(statuses)")
        let losers = (0..<8).compactMap { try? String(contentsOfFile: "\(out)-\($0)", encoding: .utf8) }.filter { !$0.isEmpty }
        #expect(losers.count == 7 && losers.allSatisfy { $0 == "moat: container r1 already exists\n" }, "\(losers)")
        #expect(state(bundle, "r1")?["status"] as? String == "created")
        #expect(moat(bundle, ["delete", "--force", "r1"]).status == 0)
    }

    @Test func aBundleThatVanishesMidRun() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("vanish", args: ["sleep", "30"])
        let stateRoot = fixture.scratch("vanish-state").path
        let output = fixture.scratch("vanish-out").appendingPathComponent("out").path
        let made = Command.run("/bin/sh", ["-c", "'\(fixture.moat)' create --root '\(stateRoot)' --bundle '\(bundle.path)' v1 >'\(output)' 2>&1"])
        #expect(made.status == 0)
        // The bundle goes away after create: start, exec and delete need only the state.
        try FileManager.default.removeItem(at: bundle.appendingPathComponent("config.json"))
        try FileManager.default.moveItem(
            at: bundle, to: bundle.deletingLastPathComponent().appendingPathComponent("vanished-\(UUID().uuidString.prefix(6))"))
        #expect(Command.run(fixture.moat, ["--root", stateRoot, "start", "v1"]).status == 0)
        let exec = Command.run(fixture.moat, ["--root", stateRoot, "exec", "v1", "sh", "-c", "echo still here"])
        #expect(exec.stdout == "still here\n", "\(exec.stderr)")
        #expect(Command.run(fixture.moat, ["--root", stateRoot, "delete", "--force", "v1"]).status == 0)
        #expect(Command.run(fixture.moat, ["--root", stateRoot, "state", "v1"]).status == 1)
    }
}

/// Reads the workload's host pid from the state directory (not in the runtime-spec state).
enum StateFile {
    static func initPid(_ bundle: URL, _ id: String) -> Int32? {
        let path = bundle.appendingPathComponent("state/\(id)/state.json")
        guard let data = try? Data(contentsOf: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return (json["initPid"] as? NSNumber)?.int32Value
    }
}
