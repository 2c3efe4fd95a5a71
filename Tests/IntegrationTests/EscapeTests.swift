import Foundation
import Testing

/// Calls that go around the syscall table are killed or refused, never run.
@Suite struct EscapeTests {
    let fixture = Fixture.shared

    @Test(arguments: ["int80", "int80-thread", "x32"])
    func foreignSyscallABIsKillTheProcess(mode: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["escape", mode])
        #expect(result.status == 128 + SIGSYS, "killed by SIGSYS: \(result.status) \(result.stdout)")
        #expect(result.lines == ["before"], "nothing after the call ran: \(result.lines)")
    }

    /// kill, tkill and tgkill run on the host: the sandbox's pid namespace is
    /// the wall. A host process named by its host pid is not there to signal,
    /// by any of them, and lives on.
    @Test func aHostProcessCannotBeSignalled() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let host = Command.start("/bin/sleep", ["60"])
        defer {
            kill(host.process.processIdentifier, SIGKILL)
            _ = host.finish()
        }
        let pid = host.process.processIdentifier
        let result = fixture.sandboxed([
            "sh", "-c", "kill -9 \(pid); echo kill=$?; kill -0 \(pid); echo probe=$?; escape tgkill \(pid)"
        ])
        #expect(result.lines.contains("kill=1") && result.lines.contains("probe=1"), "\(result.stdout) \(result.stderr)")
        #expect(result.lines.contains("tkill=-1 No such process") && result.lines.contains("tgkill=-1 No such process"), "\(result.stdout)")
        #expect(host.process.isRunning, "the host's sleep was killed")
    }

    @Test func refusedCallsReturnErrnoAndTheWorkloadGoesOn() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["escape", "refused"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.contains("unknown=-1 Function not implemented"))
        #expect(result.lines.contains("mount=-1 Operation not permitted"))
        #expect(result.lines.contains("unshare=-1 Operation not permitted"))
        #expect(result.lines.contains("clone_newuser=-1 Operation not permitted"))
        #expect(result.lines.contains("ptrace=-1 Operation not permitted"))
        let refusedWithEPERM = [
            "open_by_handle_at", "bpf", "perf_event_open", "keyctl", "add_key", "userfaultfd",
            "setns", "pivot_root", "chroot", "umount2", "process_vm_writev", "kcmp", "init_module",
            "kexec_load", "iopl", "ioperm", "modify_ldt", "reboot", "swapon", "settimeofday",
            "clock_settime", "fsopen", "open_tree", "move_mount"
        ]
        for name in refusedWithEPERM { #expect(result.lines.contains("\(name)=-1 EPERM"), "\(name): \(result.stdout)") }
        for name in ["io_uring_setup", "clone3", "syscall_9999"] {
            #expect(result.lines.contains("\(name)=-1 ENOSYS"), "\(name)")
        }
        #expect(result.lines.last == "still running")
    }

    /// A child made with CLONE_UNTRACED would be out of ptrace's reach; it
    /// is refused. CLONE_PTRACE and plain children are traced and served.
    @Test func everyCloneChildIsTraced() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["escape", "clone-flags"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "untraced=refused:EPERM", "ptrace=child_connect:ECONNREFUSED",
                "plain=child_connect:ECONNREFUSED"
            ], "\(result.stdout)")
    }

    /// The ioctls that type into a terminal are refused even on the
    /// workload's own controlling pty (where the kernel would allow them),
    /// so none can reach a terminal it shares with the host.
    @Test func terminalInjectionIsRefused() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["escape", "tty-injection"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(
            result.lines == [
                "TIOCSTI=EPERM", "TIOCSTI_high_bits=EPERM", "TIOCLINUX=EPERM", "TIOCSETD=EPERM",
                "TCGETS=ran FIONREAD=ran"
            ], "\(result.stdout)")
    }

    /// Bad arguments are Linux's EINVAL before Moat refuses what it cannot
    /// allow (EPERM), and calls that need nothing new run.
    @Test func argumentsAreValidatedInLinuxsOrder() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["linuxorder"], extra: ["--writable"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "seccomp_unknown_flags=EINVAL", "seccomp_listener=EPERM", "seccomp_no_program=EFAULT",
                "setxattr_bad_flags=EINVAL", "setxattr_bad_flags_bad_name=EINVAL", "unshare_0=ok",
                "unshare_fs_files_sysvsem=ok", "unshare_newns=EPERM", "unshare_unknown=EINVAL",
                "unshare_unknown_and_newns=EINVAL"
            ], "\(result.stdout)")
    }

    /// process.noNewPrivileges as the runtime-spec says (false when absent,
    /// as Docker sends it): without it a setuid-root program runs as root,
    /// as under runc; with it, it does not. Either way the workload's
    /// capabilities are exactly the config's (the filter is loaded with
    /// CAP_SYS_ADMIN only while no_new_privs is off, and it is dropped).
    @Test(arguments: [false, true]) func noNewPrivilegesAsConfigured(noNewPrivileges: Bool) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let probe = fixture.rootfs + "/bin/euid"
        #expect(chmod(probe, 0o4755) == 0)
        let user = try fixture.bundle("nnp-\(noNewPrivileges)", args: ["euid"]) { config in
            config.setProcess("user", ["uid": 1000, "gid": 1000])
            config.setProcess("noNewPrivileges", noNewPrivileges)
        }
        let setuid = fixture.run(user)
        #expect(setuid.status == 0, "\(setuid.stderr)")
        #expect(
            setuid.value("euid") == (noNewPrivileges ? "1000" : "0") && setuid.value("nnp") == (noNewPrivileges ? "1" : "0"),
            "\(setuid.stdout)")
        let root = try fixture.bundle("nnp-root-\(noNewPrivileges)", args: ["sh", "-c", "grep CapPrm /proc/self/status"]) { config in
            config.setProcess("noNewPrivileges", noNewPrivileges)
        }
        let capabilities = fixture.run(root)

        #expect(capabilities.stdout == "CapPrm:\t0000000020000420\n", "\(capabilities.stdout) \(capabilities.stderr)")
    }

    /// /proc/self/mountinfo and /proc/mounts name no host path: not the
    /// bundle's rootfs, not a bound host directory, not an overlay's layers.
    @Test func mountTablesShowNoHostPaths() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let shared = fixture.scratch("bound-host-dir")
        let bundle = try fixture.bundle(
            "mount-paths",
            args: [
                "sh", "-c",
                "cat /proc/self/mountinfo /proc/mounts /proc/1/task/1/mountinfo; ls /data >/dev/null && echo bound"
            ]
        ) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/data", "type": "bind", "source": shared.path, "options": ["rbind", "ro"]])
            config["mounts"] = mounts
        }
        let result = fixture.run(bundle, extra: ["--overlay=memory"])
        #expect(result.status == 0 && result.lines.last == "bound", "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains(" / / ") && result.stdout.contains(" /data "), "\(result.stdout)")
        for secret in [fixture.rootfs, shared.path, fixture.work.path, "lowerdir", "upperdir", "workdir"] {
            #expect(!result.stdout.contains(secret), "\(secret) shows: \(result.stdout)")
        }
    }

    @Test func theWorkloadSeesOnlyTheRootfs() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let marker = fixture.scratch("marker").appendingPathComponent("secret")
        try "host secret".write(to: marker, atomically: true, encoding: .utf8)
        for profile in [[], ["--metadata=direct"], ["--files=direct"]] {
            let result = fixture.sandboxed(
                [
                    "sh", "-c",
                    "cat \(marker.path) ../../..\(marker.path) 2>&1; ls /; cat /proc/1/root\(marker.path) 2>&1; "
                        + "ls -l \(marker.path) /proc/1/root\(marker.path) 2>&1; echo done"
                ], extra: profile)
            #expect(!result.stdout.contains("host secret") && !result.stdout.contains("-rw"), "\(profile): \(result.stdout)")
            #expect(result.lines.last == "done")
        }
    }

    /// Every way out of the file namespace the sentry serves: `..` chains,
    /// symlinks, /proc magic links, foreign dirfds, hard links, sockets and
    /// fifos, and races that swap links or rewrite path buffers mid-call.
    /// A marker outside the rootfs stays unread and unchanged. "direct" is
    /// the --metadata=direct profile: the kernel resolves stat, access and
    /// readlink paths, and the mount namespace alone must contain them;
    /// "files-direct" (--files=direct) leaves it every open and change too.
    @Test(arguments: ["notify", "ptrace", "direct", "files-direct"])
    func fileSystemEscapesAreContained(platform: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let (directory, marker) = try fixture.escapeMarker("marker")
        let before = try FileManager.default.attributesOfItem(atPath: marker.path)[.modificationDate] as? Date
        // A host process listens on a unix socket next to the marker.
        let listener = Command.start(
            "/usr/bin/python3",
            [
                "-c",
                "import socket, time; s = socket.socket(socket.AF_UNIX); "
                    + "s.bind('\(directory.path)/hostsock'); s.listen(); time.sleep(120)"
            ])
        defer { _ = listener.finish(timeout: 0) }
        #expect(eventually { FileManager.default.fileExists(atPath: directory.appendingPathComponent("hostsock").path) })
        let profile = ["direct": ["--metadata=direct"], "files-direct": ["--files=direct"]][platform] ?? []
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_PLATFORM=\(platform.hasSuffix("direct") ? "notify" : platform)", fixture.moat, "do",
                "--rootfs", fixture.rootfs
            ] + profile + ["--", "vfsescape", marker.path, "host secret"],
            timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let cases = result.lines.filter { $0.contains("=") }
        #expect(cases.count == 29, "every case ran: \(result.stdout)")
        for line in cases { #expect(line.hasSuffix("=contained"), "\(line)") }
        #expect(result.lines.last == "done")
        #expect(!result.stdout.contains("host secret"))
        #expect(try String(contentsOf: marker, encoding: .utf8) == "host secret")
        #expect(try FileManager.default.attributesOfItem(atPath: marker.path)[.modificationDate] as? Date == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(left == ["evil", "hostsock", "secret"], "nothing was made next to the marker: \(left)")
    }

    /// execve of a path another thread keeps rewriting: the kernel copies
    /// the path again after the sentry checked it, so the exec stop compares
    /// the two and kills the process, before its first instruction, when
    /// they differ. Every kill is reported, and the race must really happen
    /// (a run where it never does would prove nothing).
    @Test(arguments: ["notify", "ptrace"])
    func execOfARewrittenPathIsKilledBeforeItRuns(platform: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let rounds = 600
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_PLATFORM=\(platform)", fixture.moat, "do", "--rootfs", fixture.rootfs,
                "--", "execrace", "\(rounds)"
            ], timeout: 300)
        try expectRaceCaught(result, rounds: rounds, report: "killed a process whose execve ran a path other")
    }

    /// connect to a unix socket path another thread keeps rewriting: the
    /// kernel connects (so the connection is the caller's own), the exit
    /// stop compares the file the peer is bound to with the one the sentry
    /// checked and kills the process when they differ.
    @Test(arguments: ["notify", "ptrace"])
    func connectToARewrittenPathIsKilled(platform: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let rounds = 300
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_PLATFORM=\(platform)", fixture.moat, "do", "--rootfs", fixture.rootfs,
                "--", "connectrace", "\(rounds)"
            ], timeout: 300)
        let failed = try expectRaceCaught(result, rounds: rounds, report: "connect reached a socket other than the one checked")
        #expect(failed == 0, "\(result.stdout)")
    }

    /// On an overlay root a socket's file shows stat one device and
    /// sock_diag another (the upper layer's and the overlay's): connects
    /// there must not be taken for races.
    @Test func connectOnAnOverlayRootIsNotKilled() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("connect-overlay", args: ["sh", "-c", "mkdir -p /run/s && connectrace 20 /run/s plain"]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
        }
        let result = fixture.run(bundle, extra: ["--overlay=memory"])
        #expect(result.lines.last == "finished 20 killed 0 failed 0", "\(result.stdout) \(result.stderr)")
        #expect(!result.stderr.contains("killed"), "\(result.stderr)")
    }

    /// execve of a file that a host process keeps exchanging with another
    /// (in a bind-mounted directory): the kernel resolves the path again
    /// after the sentry did, so the exec stop compares the file that runs
    /// with the one checked, and kills the process when they differ.
    @Test func execOfASwappedFileIsKilledBeforeItRuns() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let shared = fixture.scratch("exchanged")
        for name in ["p1", "p2"] {
            try FileManager.default.copyItem(atPath: "\(fixture.rootfs)/bin/busybox", toPath: shared.appendingPathComponent(name).path)
        }
        let exchanger = Command.start("\(fixture.rootfs)/bin/execrace", ["exchange", shared.path])
        defer { _ = exchanger.finish(timeout: 0) }
        let rounds = 600
        let bundle = try fixture.bundle("exec-swap", args: ["execrace", "\(rounds)", "run", "/shared"]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/shared", "type": "bind", "source": shared.path, "options": ["rbind", "ro"]])
            config["mounts"] = mounts
        }
        let result = fixture.run(bundle, timeout: 300)
        try expectRaceCaught(result, rounds: rounds, report: "ran a file other than the one checked")
    }

    /// A race probe's last line is "<went through> <killed> <failed>": every
    /// round is counted, unraced calls go through, the race really landed
    /// (else the run proved nothing), and each kill is the sentry's, reported
    /// on stderr with `report`. Returns the failed count.
    @discardableResult
    func expectRaceCaught(_ result: Command.Result, rounds: Int, report: String) throws -> Int {
        #expect(result.status == 0, "\(result.stderr)")
        let counts = (result.lines.last ?? "").split(separator: " ").compactMap { Int($0) }
        try #require(counts.count == 3, "\(result.stdout)")
        let (through, killed, failed) = (counts[0], counts[1], counts[2])
        #expect(through + killed + failed == rounds, "\(result.stdout)")
        #expect(through > 0, "calls the race did not touch go through")
        #expect(killed > 0, "the race never landed between the sentry's check and the kernel's call: the test proved nothing")
        let reported = result.stderr.split(separator: "\n").filter { $0.contains(report) }
        #expect(reported.count == killed, "every kill is the sentry's: \(result.stderr.prefix(500))")
        return failed
    }

    /// Device nodes that come with the files (the image, a volume) name the
    /// host's devices: only those runc's device rules allow may be opened.
    /// loop0 is a block device of this host; tty9 a virtual console, which
    /// must be refused, not opened by the caller as terminals are. Two
    /// walls: the root and bound directories are nodev (the kernel refuses
    /// before a driver sees the open), and the sentry checks the rules on
    /// what it opened (so /data/null is refused too, where runc would open
    /// it; /dev's own nodes work). A rule of the config that allows one
    /// more device, for reading only, lifts the first wall and leaves the second.
    @Test(arguments: ["notify", "ptrace", "files-direct"])
    func deviceNodesOutsideTheRulesAreRefused(platform: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let data = fixture.scratch("devices")
        for (name, type, major, minor) in [("loop0", S_IFBLK, 7, 0), ("tty9", S_IFCHR, 4, 9), ("null", S_IFCHR, 1, 3)] {
            #expect(mknod(data.appendingPathComponent(name).path, type | 0o666, dev_t(major << 8 | minor)) == 0)
        }
        let script =
            "for n in loop0 tty9 null; do (exec 3</data/$n) 2>/dev/null && echo $n=read || echo $n=refused; "
            + "(exec 3>/data/$n) 2>/dev/null && echo $n=written || echo $n=refused; done; "
            + "echo x >/dev/null && echo dev/null=written; "
            + "for m in / /data; do grep -q \" $m [^ ]* [^ ]*nodev\" /proc/self/mounts && echo \"$m nodev\"; done; true"
        for allowLoop in [false, true] {
            let bundle = try fixture.bundle("devices", args: ["sh", "-c", script]) { config in
                var mounts = config["mounts"] as! [[String: Any]]
                mounts.append(["destination": "/data", "type": "bind", "source": data.path, "options": ["rbind"]])
                config["mounts"] = mounts
                if allowLoop {
                    var linux = config["linux"] as! [String: Any]
                    linux["resources"] = [
                        "devices": [["allow": false, "access": "rwm"], ["allow": true, "type": "b", "major": 7, "minor": 0, "access": "r"]]
                    ]
                    config["linux"] = linux
                }
            }
            // With --files=direct the kernel opens them: nodev stays whatever the rules allow.
            let direct = platform == "files-direct"
            let result = Command.run(
                "/usr/bin/env",
                [
                    "MOAT_PLATFORM=\(direct ? "notify" : platform)", fixture.moat, "run", "--root", bundle.appendingPathComponent("state").path,
                    "--bundle", bundle.path
                ] + (direct ? ["--files=direct"] : []) + ["devices-\(allowLoop)"])
            #expect(result.status == 0, "\(result.stderr)")
            let nodev = !allowLoop || direct
            #expect(
                result.lines == [
                    allowLoop && !direct ? "loop0=read" : "loop0=refused", "loop0=refused", "tty9=refused", "tty9=refused",
                    nodev ? "null=refused" : "null=read", nodev ? "null=refused" : "null=written", "dev/null=written"
                ] + (nodev ? ["/ nodev", "/data nodev"] : []), "allow loop0: \(allowLoop): \(result.lines)")
        }
    }

    /// Making a bound directory nodev keeps the flags its host mount has
    /// (a bind remount sets them all: nosuid and nosymfollow would be lost).
    @Test func nodevKeepsTheBoundMountsFlags() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let data = fixture.scratch("flags")
        #expect(Command.run("/bin/mount", ["--bind", data.path, data.path]).status == 0)
        defer { _ = Command.run("/bin/umount", [data.path]) }
        #expect(Command.run("/bin/mount", ["-o", "remount,bind,nosuid,nosymfollow", data.path]).status == 0)
        let bundle = try fixture.bundle("flags", args: ["sh", "-c", "grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6"]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/data", "type": "bind", "source": data.path, "options": ["rbind"]])
            config["mounts"] = mounts
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let options = Set(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ","))
        #expect(options.isSuperset(of: ["nosuid", "nodev", "nosymfollow"]), "\(result.stdout)")
    }

    /// /dev/tty names its opener's controlling terminal: a workload in its
    /// own session has none, even when the supervisor runs on a terminal.
    @Test func devTtyIsNeverTheSupervisorsTerminal() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let command = "\(fixture.moat) do --rootfs \(fixture.rootfs) -- sh -c 'echo leaked > /dev/tty; echo rc=$?'"
        let result = Command.run("/usr/bin/script", ["-qc", command, "/dev/null"])
        #expect(result.stdout.contains("No such device or address"), "\(result.stdout)")
        #expect(result.stdout.contains("rc=1") && !result.stdout.contains("leaked\r"), "\(result.stdout)")
    }

    @Test func onlyStdioIsInherited() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["ls", "/proc/self/fd"])
        #expect(result.status == 0, "\(result.stderr)")
        // 0, 1, 2 and the fd ls opened to read the directory.
        #expect(result.lines.count <= 4, "fds: \(result.lines)")
        #expect(result.lines.allSatisfy { ["0", "1", "2", "3"].contains($0) })
    }

    @Test func capabilitiesAreTheConfigs() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["sh", "-c", "grep -E 'Cap(Eff|Bnd)|NoNewPrivs' /proc/self/status; mknod /tmp/sda b 8 0; echo mknod=$?"])
        // runc's default: AUDIT_WRITE, KILL, NET_BIND_SERVICE.
        #expect(result.stdout.contains("CapEff:\t0000000020000420"))
        #expect(result.stdout.contains("CapBnd:\t0000000020000420"))
        #expect(result.stdout.contains("NoNewPrivs:\t1"))
        #expect(result.lines.last == "mknod=1", "no CAP_MKNOD: \(result.stdout)")
    }
}

@Suite struct IdentityTests {
    let fixture = Fixture.shared

    @Test func unameShowsTheConfigsHostname() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("uname", args: ["uname", "-n", "-r", "-s", "-m"]) { $0["hostname"] = "sandbox-7" }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Linux sandbox-7 6.1.0-moat x86_64\n")
        let named = fixture.run(try fixture.bundle("hostname", args: ["hostname"]) { $0["hostname"] = "box" })
        #expect(named.stdout == "box\n")
    }

    @Test func sethostnameNeedsCapSysAdmin() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let refused = fixture.sandboxed(["sh", "-c", "hostname other; echo rc=$?; hostname"])
        #expect(refused.lines.contains("rc=1"))
        #expect(refused.lines.last == "moat")
        let bundle = try fixture.bundle("sethostname", args: ["sh", "-c", "hostname other; uname -n"]) {
            let caps = ["CAP_SYS_ADMIN"]
            $0.setProcess("capabilities", ["bounding": caps, "effective": caps, "permitted": caps])
        }
        let allowed = fixture.run(bundle)
        #expect(allowed.stdout == "other\n", "\(allowed.stdout) \(allowed.stderr)")
    }

    @Test func processUserIsHonoured() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("user", args: ["sh", "-c", "id -u; id -g; id -G"]) {
            $0.setProcess("user", ["uid": 1000, "gid": 1001, "additionalGids": [1002]])
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["1000", "1001", "1001 1002"] || result.lines == ["1000", "1001", "1002 1001"], "\(result.lines)")
    }
}
