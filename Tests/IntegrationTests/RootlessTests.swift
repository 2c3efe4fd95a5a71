import Foundation
import Testing

/// `moat` as an unprivileged user: the sandbox gets a user namespace whose
/// root is the caller's own uid, and the same sentry serves it.
@Suite struct RootlessTests {
    let fixture = Fixture.shared
    static let nobody = ["--reuid", "65534", "--regid", "65534", "--clear-groups"]

    func asNobody(_ args: [String], timeout: Double = 120) -> Command.Result {
        Command.run("/usr/bin/setpriv", RootlessTests.nobody + [fixture.moat] + args, timeout: timeout)
    }

    /// A state directory the unprivileged user owns.
    func stateRoot() -> String {
        let root = fixture.scratch("rootless-state").path
        chown(root, 65534, 65534)
        return root
    }

    @Test func doRunsUnprivilegedInAUserNamespace() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = asNobody([
            "do", "--root", stateRoot(), "--rootfs", fixture.rootfs, "--", "sh", "-c",
            """
            id -u; awk '{print $1, $2, $3}' /proc/self/uid_map; echo hi > /tmp/f && stat -c '%u %s' /tmp/f; stat -c %u /etc/passwd
            ps -o pid | tail -n +2 | awk '$1 == 1 { init++ } $1 > 100 { far++ } END { print init + 0, far + 0 }'; readlink /proc/self; mount -t tmpfs t /mnt 2>&1 | grep -c denied
            """
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 7, "\(result.lines)")
        #expect(result.lines.first == "0", "root inside")
        #expect(result.lines.dropFirst().first == "0 65534 1", "\(result.lines)")
        #expect(result.lines.dropFirst(2).first == "0 3", "a file it made is its own: \(result.lines)")
        #expect(result.lines.dropFirst(3).first == "65534", "the host's root is unmapped inside: \(result.lines)")
        // ps sees the sandbox's init and only small sandbox pids (the pipe's
        // members may or may not have started when ps looks).
        #expect(result.lines.dropFirst(4).first == "1 0", "\(result.lines)")
    }

    /// The outside attack suite's holes stay closed without root: clones
    /// with CLONE_UNTRACED, terminal injection, a faulting init, a vsyscall
    /// with a bad pointer, argument validation in Linux's order.
    @Test func attackSuiteCasesHoldUnprivileged() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let root = stateRoot()
        func sandboxed(_ args: [String]) -> Command.Result {
            asNobody(["do", "--root", root, "--rootfs", fixture.rootfs, "--writable", "--"] + args)
        }
        #expect(
            sandboxed(["escape", "clone-flags"]).lines == [
                "untraced=refused:EPERM", "ptrace=child_connect:ECONNREFUSED",
                "plain=child_connect:ECONNREFUSED"
            ])
        let tty = sandboxed(["escape", "tty-injection"])
        #expect(
            tty.lines.prefix(4) == ["TIOCSTI=EPERM", "TIOCSTI_high_bits=EPERM", "TIOCLINUX=EPERM", "TIOCSETD=EPERM"],
            "\(tty.stdout) \(tty.stderr)")
        #expect(sandboxed(["fault", "segv"]).status == 139)
        #expect(sandboxed(["vsyscall", "g"]).status == 139)
        let order = sandboxed(["linuxorder"])
        #expect(
            order.lines.contains("seccomp_unknown_flags=EINVAL") && order.lines.contains("seccomp_listener=EPERM")
                && order.lines.contains("unshare_0=ok") && order.lines.contains("unshare_newns=EPERM"), "\(order.stdout) \(order.stderr)")
    }

    /// As root, a config's own user namespace with a wide mapping (the OCI
    /// suite's: ids 0-1999 inside are 1000-2999 outside): the child becomes
    /// the namespace's root before it mounts (devpts's gid=5 and its ptmx
    /// need owners that exist inside), and sysfs, which needs a network
    /// namespace of the user namespace's own, is the host's /sys bound
    /// read-only, as runc does.
    @Test func aConfiguredUserNamespaceWithAWideMapping() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle(
            "userns-wide",
            args: ["sh", "-c", "id -u; awk '{print $1, $2, $3}' /proc/self/uid_map; ls /dev/pts/ptmx; touch /sys/x 2>/dev/null || echo sys-ro"]
        ) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "network" } + [["type": "user"]]
            linux["uidMappings"] = [["containerID": 0, "hostID": 1000, "size": 2000]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 1000, "size": 3000]]
            config["linux"] = linux
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["0", "0 1000 2000", "/dev/pts/ptmx", "sys-ro"], "\(result.stdout)")
    }

    /// As root, a sandbox in a user namespace of its own: its root's
    /// capabilities hold only inside it, so a host file the namespace does
    /// not own stays out of reach (runc: Permission denied for both, the
    /// owner shown as the overflow id). The sentry used to open it with the
    /// capabilities applied in the host's namespace.
    @Test func aUserNamespacesRootCannotOverrideHostFiles() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let secret = fixture.scratch("userns-secret")
        try "host secret\n".write(to: secret.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        chmod(secret.appendingPathComponent("f").path, 0o600)
        chmod(secret.path, 0o755)
        let bundle = try fixture.bundle(
            "userns-confined",
            args: [
                "sh", "-c",
                """
                cat /root/f 2>/dev/null || echo read-refused
                touch /root/new 2>/dev/null || echo create-refused
                stat -c '%u:%g' /root/f; statxids /root/f
                touch /tmp/mine && chown 0:0 /tmp/mine && stat -c '%u:%g' /tmp/mine && statxids /tmp/mine
                chown 5000 /tmp/mine 2>/dev/null || echo unmapped-refused
                """
            ]
        ) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).filter { $0["type"] as? String != "network" } + [["type": "user"]]
            linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 2000]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 2000]]
            config["linux"] = linux
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/root", "type": "bind", "source": secret.path, "options": ["rbind"]])
            config["mounts"] = mounts
            config.setProcess(
                "capabilities",
                Dictionary(
                    uniqueKeysWithValues: ["bounding", "effective", "permitted"].map {
                        ($0, ["CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_CHOWN"])
                    }))
        }
        let result = fixture.run(bundle)
        #expect(
            result.status == 0
                && result.lines == [
                    "read-refused", "create-refused", "65534:65534", "65534:65534", "0:0", "0:0",
                    "unmapped-refused"
                ],
            "\(result.stdout) \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: secret.appendingPathComponent("new").path))
    }

    @Test func runCreateExecAndEscapesWorkUnprivileged() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let root = stateRoot()
        let bundle = try fixture.bundle("rootless", args: ["sleep", "30"])
        chown(bundle.path, 65534, 65534)
        #expect(asNobody(["create", "--root", root, "--bundle", bundle.path, "r1"]).status == 0)
        #expect(asNobody(["start", "--root", root, "r1"]).status == 0)
        let joined = asNobody(["exec", "--root", root, "r1", "sh", "-c", "id -u; cat /proc/1/cmdline | tr '\\0' ' '"])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.lines == ["0", "sleep 30 "], "\(joined.lines)")
        #expect(asNobody(["delete", "--force", "--root", root, "r1"]).status == 0)

        let directory = fixture.scratch("rootless-marker")
        let marker = directory.appendingPathComponent("secret")
        try "host secret".write(to: marker, atomically: true, encoding: .utf8)
        chmod(marker.path, 0o644)
        let escapes = asNobody(
            ["do", "--root", root, "--rootfs", fixture.rootfs, "--", "vfsescape", marker.path, "host secret"],
            timeout: 300)
        let cases = escapes.lines.filter { $0.contains("=") }
        #expect(cases.count == 29 && escapes.lines.last == "done", "\(escapes.stdout) \(escapes.stderr)")
        for line in cases { #expect(line.hasSuffix("=contained"), "\(line)") }
        #expect(try String(contentsOf: marker, encoding: .utf8) == "host secret")
    }

    @Test func whatRootlessCannotDoIsAOneLineError() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let root = stateRoot()
        let limited = try fixture.bundle("rootless-limits", args: ["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = ["pids": ["limit": 10]]
            config["linux"] = linux
        }
        let result = asNobody(["run", "--root", root, "--bundle", limited.path, "l1"])
        #expect(result.status != 0 && result.stderr.contains("limits need cgroups, which need root"), "\(result.stderr)")
        let mapped = try fixture.bundle("rootless-map", args: ["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]) + [["type": "user"]]
            linux["uidMappings"] = [["containerID": 0, "hostID": 1000, "size": 1]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 1000, "size": 1]]
            config["linux"] = linux
        }
        let foreign = asNobody(["run", "--root", root, "--bundle", mapped.path, "m1"])
        #expect(foreign.status != 0 && foreign.stderr.contains("only the caller's own ids can be mapped"), "\(foreign.stderr)")
        #expect(foreign.stderr.split(separator: "\n").count == 1)
        // runc's --rootless: a value that contradicts the caller's uid is refused.
        let asRoot = Command.run(fixture.moat, ["--rootless", "true", "list"])
        #expect(asRoot.status != 0 && asRoot.stderr.contains("rootless exactly when run without root"), "\(asRoot.stderr)")
        #expect(asNobody(["--rootless", "true", "list", "--root", root]).status == 0)
        #expect(Command.run(fixture.moat, ["--rootless", "auto", "list"]).status == 0)
    }
}
