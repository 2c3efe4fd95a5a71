import Foundation
import Testing

/// The workload's file system: read-only roots and the overlay leave the
/// bundle byte-for-byte as it was.
@Suite struct FilesTests {
    let fixture = Fixture.shared

    /// Every path under the rootfs with its type, mode and content hash.
    func fingerprint(_ rootfs: String) -> String {
        Command.run(
            "/bin/sh", ["-c", "cd \(rootfs) && find . -printf '%p %y %m %s %l\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum"]
        ).stdout
    }

    static let writer =
        "echo new > /etc/newfile; echo more >> /etc/passwd; mv /etc/group /etc/group2; "
        + "rm -r /usr; mkdir /usr; touch /usr/only; ls /etc; cat /etc/newfile; ls /usr"

    /// A daemon that starts as root and drops its effective uid is no longer
    /// dumpable; the sentry still reaches its dirfds and cwd (with the
    /// supervisor's power, never the caller's), so relative calls work and
    /// permissions are the caller's (EACCES), as natively.
    @Test func relativeCallsAfterDroppingTheEffectiveUid() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("dropids", args: ["dropids"]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
            let caps = ["CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
            config.setProcess("capabilities", ["bounding": caps, "effective": caps, "permitted": caps])
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]])
            config["mounts"] = mounts
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "fstatat_dirfd=ok", "stat_relative_cwd=ok", "fstatat_empty_path=ok", "open_relative=ok",
                "unlinkat_dirfd_denied=EACCES", "sendto_path=ENOENT"
            ], "\(result.stdout)")
    }

    /// A memfd and a deleted file reopen through /proc/self/fd/N, as Linux
    /// allows; a write-sealed memfd, reopened too, refuses what Linux refuses.
    @Test func reopeningWhatNoPathNames() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["reopen"])
        #expect(
            result.status == 0
                && result.lines == [
                    "memfd=memfd-data", "deleted=file-data", "seal=ok", "shared_write_map=EPERM",
                    "shared_read_map=ok", "mprotect_write=EACCES", "private_write_map=ok",
                    "write=EPERM", "reopened_write=EPERM", "reopened_shared_write_map=EPERM"
                ],
            "\(result.stdout) \(result.stderr)")
    }

    /// Errors as Linux orders them, compared with a chroot natively: rmdir
    /// of the root, utimensat with nothing to do on a missing path, calls
    /// relative to an O_PATH directory, fchownat on an fd by a non-owner.
    @Test func fileCallErrorsInLinuxsOrder() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["fsorder"], extra: ["--writable"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "unlinkat_root_removedir=EBUSY", "rmdir_root=EBUSY", "unlinkat_dot=EINVAL", "utimensat_omit_both=ok",
                "utimensat_omit_both_missing=ok", "fstatat_opath_dir=ok", "renameat_opath_dir=ok",
                "unlinkat_opath_dir=ok", "fchownat_empty_path_root=ok", "fchownat_empty_path_nonowner=EPERM",
                "fchown_nonowner=EPERM"
            ], "\(result.stdout)")
    }

    @Test func readOnlyRootGivesEROFSAndLeavesTheBundleAlone() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = fingerprint(fixture.rootfs)
        let bundle = try fixture.bundle("ro", args: ["sh", "-c", "touch /x 2>&1; rm /bin/ls 2>&1; mkdir /d 2>&1; echo done"])
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.components(separatedBy: "Read-only file system").count == 4, "\(result.stdout)")
        #expect(fingerprint(fixture.rootfs) == before)
    }

    @Test func memoryOverlayTakesWritesRenamesAndDeletes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = fingerprint(fixture.rootfs)
        let bundle = try fixture.bundle("overlay", args: ["sh", "-c", FilesTests.writer]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
        }
        let result = fixture.run(bundle, extra: ["--overlay"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines.contains("newfile") && result.lines.contains("group2") && !result.lines.contains("group"),
            "the workload sees its changes: \(result.lines)")
        #expect(result.lines.suffix(2) == ["new", "only"], "\(result.lines)")
        #expect(fingerprint(fixture.rootfs) == before, "the bundle is unchanged")
        // The state directory held only the (sandbox-private) tmpfs mount point.
        let state = bundle.appendingPathComponent("state").path
        #expect((try? FileManager.default.contentsOfDirectory(atPath: state))?.filter { !$0.hasPrefix("filter-") } == [])

        // A second run starts from the bundle again.
        let again = try fixture.bundle("overlay2", args: ["sh", "-c", "ls /etc/newfile 2>&1; ls /usr | wc -l"]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
            config["annotations"] = ["dev.moat.overlay": "memory"]
        }
        let second = fixture.run(again)
        #expect(second.stdout.contains("No such file"), "\(second.stdout)")
        #expect(second.lines.last != "0", "\(second.stdout)")
    }

    @Test func directoryOverlayKeepsTheUpperLayer() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = fingerprint(fixture.rootfs)
        let upper = fixture.scratch("upper")
        let bundle = try fixture.bundle("overlay-dir", args: ["sh", "-c", FilesTests.writer]) { config in
            config["root"] = ["path": fixture.rootfs, "readonly": false]
        }
        let result = fixture.run(bundle, extra: ["--overlay=\(upper.path)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fingerprint(fixture.rootfs) == before)
        let newfile = try String(contentsOf: upper.appendingPathComponent("upper/etc/newfile"), encoding: .utf8)
        #expect(newfile == "new\n")
        // The delete and the rename are whiteouts (character devices 0:0) in the upper layer.
        let whiteout = Command.run("/usr/bin/stat", ["-c", "%F %t:%T", upper.appendingPathComponent("upper/etc/group").path])
        #expect(whiteout.stdout == "character special file 0:0\n", "\(whiteout.stdout)")
    }

    @Test func badOverlayChoicesAreOneLineErrors() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("overlay-bad", args: ["true"])
        let relative = fixture.run(bundle, extra: ["--overlay=relative"])
        #expect(relative.status == 2 && relative.stderr.contains("--overlay: give memory, none or an absolute directory"))
        let missing = fixture.run(bundle, extra: ["--overlay=/nonexistent/dir"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/dir is not a directory"), "\(missing.stderr)")
        let state = bundle.appendingPathComponent("state").path
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: state))?.filter { !$0.hasPrefix("filter-") } ?? [] == [],
            "no half-made container")
    }
}

/// The sentry opens and stats files under the calling thread's credentials:
/// process.user, its groups, umask and capabilities decide as they would natively.
@Suite struct FileCredentialTests {
    let fixture = Fixture.shared

    /// A directory bound into the sandbox at /data: a root-only file, a
    /// public one, a private directory, and a file of uid 1000 mode 0600.
    func dataDirectory() throws -> URL {
        let data = fixture.scratch("data")
        let files: [(String, String, mode_t, uid_t)] = [
            ("secret", "root only\n", 0o600, 0), ("public", "everyone\n", 0o644, 0), ("users", "uid 1000 only\n", 0o600, 1000)
        ]
        for (name, text, mode, owner) in files {
            let url = data.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            chmod(url.path, mode)
            chown(url.path, owner, owner)
        }
        let privateDirectory = data.appendingPathComponent("private")
        try FileManager.default.createDirectory(at: privateDirectory, withIntermediateDirectories: true)
        try "x".write(to: privateDirectory.appendingPathComponent("inner"), atomically: true, encoding: .utf8)
        chmod(privateDirectory.path, 0o700)
        return data
    }

    func bundle(_ name: String, data: URL, script: String, user: [String: Any]) throws -> URL {
        try fixture.bundle(name, args: ["sh", "-c", script]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/data", "type": "bind", "source": data.path, "options": ["rbind", "ro"]])
            config["mounts"] = mounts
            config.setProcess("user", user)
        }
    }

    static let script = """
        cat /data/public; cat /data/secret 2>&1; cat /data/users 2>&1; ls /data/private 2>&1; stat -c %s /data/private/inner 2>&1
        test -r /data/secret && echo secret-readable || echo secret-unreadable
        cd /tmp && echo made > new && stat -c '%u %a' new
        """

    @Test func anUnprivilegedUserGetsEACCESAndItsUmask() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let data = try dataDirectory()
        let bundle = try bundle(
            "user1000", data: data, script: FileCredentialTests.script,
            user: ["uid": 1000, "gid": 1000, "umask": 0o027])
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines
        #expect(lines.first == "everyone")
        #expect(lines.contains("cat: can't open '/data/secret': Permission denied"), "\(lines)")
        #expect(lines.contains("uid 1000 only"), "its own file: \(lines)")
        #expect(lines.contains { $0.contains("/data/private") && $0.contains("Permission denied") }, "\(lines)")
        #expect(lines.contains("stat: can't stat '/data/private/inner': Permission denied"), "\(lines)")
        #expect(lines.contains("secret-unreadable"))
        #expect(lines.last == "1000 640", "owner and umask of a new file: \(lines)")
    }

    /// The sentry opens /proc as a supervisor with CAP_SYS_PTRACE; it makes
    /// Linux's ptrace-access check for another process's guarded files itself.
    @Test func anotherUsersProcFilesNeedPtraceRights() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("procaccess", args: ["procaccess"]) { config in
            var process = config["process"] as! [String: Any]
            var caps = process["capabilities"] as! [String: Any]
            for set in ["bounding", "effective", "permitted"] {
                caps[set] = (caps[set] as? [String] ?? []) + ["CAP_SETUID", "CAP_SETGID"]
            }
            process["capabilities"] = caps
            config["process"] = process
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "self environ: opened", "parent environ: Permission denied", "parent mem: Permission denied",
                "parent cwd link: Permission denied", "parent environ beneath: Permission denied",
                "parent status: opened", "root reads child-free self: opened"
            ],
            "\(result.lines)")
    }

    @Test func rootWithoutDACOverrideIsRefusedOthersFiles() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let data = try dataDirectory()
        // moat spec's capabilities: AUDIT_WRITE, KILL, NET_BIND_SERVICE (no DAC_OVERRIDE).
        let bundle = try bundle("root-nocaps", data: data, script: FileCredentialTests.script, user: ["uid": 0, "gid": 0])
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.contains("root only"), "root owns it: \(result.lines)")
        #expect(result.lines.contains("cat: can't open '/data/users': Permission denied"), "\(result.lines)")
        #expect(result.lines.contains("inner") && result.lines.contains("secret-readable"), "\(result.lines)")
        #expect(result.lines.last == "0 644")
    }
}

/// /proc shows the sandbox: its processes, its memory limit, /proc/self as the caller.
@Suite struct ProcTests {
    let fixture = Fixture.shared

    @Test func meminfoShowsTheMemoryLimit() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let limited = try fixture.bundle("meminfo", args: ["sh", "-c", "head -3 /proc/meminfo; free | head -2"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = ["memory": ["limit": 64 * 1024 * 1024]]
            config["linux"] = linux
        }
        let result = fixture.run(limited)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.first == "MemTotal:          65536 kB", "\(result.lines)")
        let free = Int(result.lines[1].split(separator: " ").dropFirst().first ?? "") ?? 0
        #expect(free > 0 && free < 65536, "\(result.lines)")
        // free(1) asks sysinfo(2), which agrees.
        #expect(result.lines.last?.split(separator: " ").dropFirst().first == "65536", "\(result.lines)")
        let unlimited = fixture.sandboxed(["head", "-1", "/proc/meminfo"])
        let host = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8).split(separator: "\n").first.map(String.init)
        #expect(unlimited.lines.first == host, "without a limit the host's: \(unlimited.lines)")
    }

    @Test func procSelfNamesTheCaller() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed([
            "sh", "-c",
            """
            readlink /proc/self; readlink /proc/self/exe; cat /proc/self/stat | cut -d' ' -f1; grep ^Pid: /proc/thread-self/status
            ls /proc/self/fd; ls -la /dev/stdout | grep -c proc/self/fd; echo via-dev-fd > /dev/fd/1; cat /etc/mtab >/dev/null 2>&1; echo mtab=$?
            cd /proc/self && readlink cwd
            """
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines
        // sh is pid 1; readlink, cat and grep run as 2, 4, 6 (a pipe's cut is 5).
        #expect(lines.count >= 9, "\(lines)")
        #expect(lines[0] == "2" && lines[1] == "/bin/busybox" && lines[2] == "4", "\(lines)")
        #expect(lines[3] == "Pid:\t6", "\(lines)")
        #expect(lines.contains("via-dev-fd"))
        #expect(lines.last == "/proc/1", "\(lines)")
    }

    @Test func procAgreesWithTheSentry() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed([
            "sh", "-c",
            "cut -d' ' -f1 /proc/uptime; cat /proc/sys/kernel/osrelease; uname -r; "
                + "cat /proc/sys/kernel/hostname; hostname; cut -d' ' -f3 /proc/version"
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines
        #expect(lines.count == 6, "\(lines)")
        #expect((Double(lines.first ?? "") ?? 99) < 5, "the sandbox's uptime, not the host's: \(lines)")
        #expect(lines[1] == lines[2] && lines[3] == lines[4] && lines[5] == lines[2], "\(lines)")
    }

    @Test func unixSocketPathsResolveInTheSandbox() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        for platform in ["notify", "ptrace"] {
            let result = Command.run(
                "/usr/bin/env",
                [
                    "MOAT_PLATFORM=\(platform)", fixture.moat, "do", "--rootfs", fixture.rootfs,
                    "--cap-add", "CAP_SETUID,CAP_SETGID", "--", "unixpaths"
                ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                result.lines == [
                    "bound /tmp/dgram.sock", "received ping", "peer stream.sock", "sendmsg pong", "missing 1",
                    "peercred 4321 1234", "passcred 4321 1234 pid", "rights via fd", "creds own 2 other EPERM",
                    "mmsg 2 2 2 m1 m2"
                ], "\(result.lines)")
        }
    }

    /// With /proc/sys writable (no readonlyPaths), only the sandbox's own
    /// namespaced keys can be written; host-wide ones stay EROFS.
    @Test func onlyNamespacedSysctlsCanBeWritten() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let before = try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)
        let script =
            "echo '|/tmp/evil' > /proc/sys/kernel/core_pattern; echo core=$?; echo 1000 > /proc/sys/net/core/somaxconn; "
            + "echo net=$?; cat /proc/sys/net/core/somaxconn; echo 512 > /proc/sys/kernel/msgmni; echo msg=$?"
        let bundle = try fixture.bundle("sysctl-writes", args: ["sh", "-c", script]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["readonlyPaths"] = []
            config["linux"] = linux
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["core=1", "net=0", "1000", "msg=0"], "\(result.lines) \(result.stderr)")
        #expect(result.stderr.contains("core_pattern: Read-only file system"), "\(result.stderr)")
        #expect(try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8) == before)
    }

    @Test func busyboxToolsSeeTheSandbox() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed([
            "sh", "-c",
            """
            sleep 5 & ps -o pid,comm; echo ---; mount | cut -d' ' -f3 | sort | tr '\\n' ' '; echo; df / | tail -1 | wc -l; kill %1
            """
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let psLines = result.lines.prefix { $0 != "---" }
        // (busybox runs the background applet through /proc/self/exe: its comm is "exe", natively too.)
        let rows = psLines.map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { $0.first } == ["PID", "1", "2", "3"] && rows[1].last == "sh" && rows[3].last == "ps", "\(psLines)")
        let mounts = result.lines.drop { $0 != "---" }.dropFirst().first ?? ""
        #expect(mounts.hasPrefix("/ /dev") && mounts.contains("/proc ") && mounts.contains("/tmp"), "\(mounts)")
        #expect(result.lines.last == "1", "df shows the root")
    }

    /// busybox top, one batch: the sandbox's processes only, in its pids.
    @Test func topShowsOnlyTheSandbox() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["sh", "-c", "sleep 5 & top -bn1 > /tmp/top; kill %1; awk 'NR > 4 { print $1 }' /tmp/top | sort -n"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["1", "2", "3"], "sh, sleep and top: \(result.lines)")
    }

    /// execve and execveat (scripts, nested and relative interpreters, fds,
    /// memfds, symlinks, every error) end as they do in a chroot of the same
    /// rootfs, though the sentry resolves and checks each program first.
    @Test(arguments: ["notify", "ptrace"])
    func execAgreesWithAChroot(platform: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let moat = Command.run(
            "/usr/bin/env",
            [
                "MOAT_PLATFORM=\(platform)", fixture.moat, "do", "--rootfs", fixture.rootfs,
                "--", "execs"
            ])
        let native = Command.run(
            "/usr/bin/unshare",
            [
                "-m", "/bin/sh", "-c",
                "mount -t tmpfs tmpfs \(fixture.rootfs)/tmp && mount -t proc proc \(fixture.rootfs)/proc && exec chroot \(fixture.rootfs) execs"
            ])
        #expect(native.status == 0, "\(native.stderr)")
        #expect(moat.status == 0, "\(moat.stderr)")
        #expect(moat.lines.last == "cases 26", "every case ran: \(moat.stdout)")
        #expect(moat.stdout == native.stdout, "moat:\n\(moat.stdout)\nchroot:\n\(native.stdout)")
        #expect(moat.stderr == native.stderr)
    }

    /// Deterministic busybox work gives what it gives in a chroot of the same rootfs.
    @Test func busyboxAgreesWithAChroot() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let script = """
            find /bin /etc /usr -xdev | sort | md5sum; tar c /etc 2>/tmp/err | tar t | sort | tr '\\n' ' '; echo
            cd /etc && ls -la passwd group | cut -c1-10; cd .. ; pwd; echo one > /tmp/a; cat < /tmp/a | tr o 0 > /tmp/b; cat /tmp/a /tmp/b
            for f in /etc/*; do test -f $f && echo file $f; done; ls /nonexistent 2>&1 >/tmp/out | wc -l
            """
        let moat = fixture.sandboxed(["sh", "-c", script])
        // The chroot gets a private mount namespace and its own /tmp: the shared rootfs stays as it is.
        let native = Command.run(
            "/usr/bin/unshare",
            [
                "-m", "/bin/sh", "-c",
                "mount -t tmpfs tmpfs \(fixture.rootfs)/tmp && exec chroot \(fixture.rootfs) /bin/sh -c \"$0\"", script
            ])
        #expect(moat.status == 0, "\(moat.stderr)")
        #expect(moat.stdout == native.stdout, "moat:\n\(moat.stdout)\nchroot:\n\(native.stdout)")
    }
}

/// What a file open or an fd call gives the caller itself, as Linux would.
@Suite struct CallerStateTests {
    let fixture = Fixture.shared

    /// A session leader that opens a pty replica without O_NOCTTY gets its
    /// controlling terminal (the caller opens a terminal itself: opened by
    /// the sentry, the terminal would be no one's or the supervisor's).
    @Test func openingATerminalMakesItTheControllingOne() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["ctty"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == ["ctty: controlling=yes notty=ok", "noctty: controlling=no notty=Inappropriate ioctl for device"],
            "\(result.stdout)")
    }

    /// fchownat and friends on fds of a process that dropped its ids give
    /// Linux's EPERM, not EBADF (the process is not dumpable).
    @Test func chownThroughFdsAfterDroppingIdsIsEPERM() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["chownempty"], extra: ["--writable", "--cap-add", "CAP_SETUID,CAP_SETGID"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "rdonly=Operation not permitted", "opath=Operation not permitted", "dir=Operation not permitted",
                "cwd=Operation not permitted", "fchown=Operation not permitted", "relative=Operation not permitted",
                "fstatat_empty=ok", "unlinkat_dir=No such file or directory"
            ], "\(result.stdout)")
    }

    /// sigtimedwait for a signal that is ignored and not blocked times out
    /// (Linux drops it when sent; ptrace would have it queued); a blocked one is returned.
    @Test func sigtimedwaitDoesNotReturnAnIgnoredSignal() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["ignoredwait"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == ["ignored=Resource temporarily unavailable waited_full=yes", "blocked=SIGUSR1 waited_full=no"],
            "\(result.stdout)")
    }
}
