import Foundation
import Testing

/// The --metadata=direct profile: stat, access and readlink run on the host
/// kernel inside the sandbox's mount namespace; --files=direct adds every
/// call that opens or changes a file by path. They must answer exactly as
/// the sentry does (the escapes are in EscapeTests), with the caller's own
/// permissions, and the profile is chosen by flag or annotation.
@Suite struct MetadataProfileTests {
    let fixture = Fixture.shared

    /// What a workload learns about its files through the metadata calls.
    /// (Not the root's link count: other tests make mount points in the shared rootfs.)
    static let survey = """
        stat -c '%n %u %g %a %F' /
        stat -c '%n %s %u %g %a %F %h' /etc /bin/sh /proc/self/status /dev/null /dev/zero /tmp /proc/1 /sys 2>&1
        for l in /proc/self /proc/1/exe /proc/1/cwd /proc/self/root /bin/sh /proc/self/fd/0; do echo "$l -> $(readlink $l)"; done
        stat -c '%n %a %F %s' /proc/kcore /proc/keys /sys/firmware /proc/sys /proc/sys/kernel/hostname 2>&1
        stat -f -c '%T' / /proc /tmp /dev 2>&1
        cd /etc && stat -c %n passwd ../etc/passwd ../../../etc/passwd 2>&1
        test -x /bin/sh && echo sh-executable
        [ -e /nonexistent ] || echo nonexistent-absent
        stat -c %n /bin/sh/ /etc/passwd/ 2>&1
        realpath /proc/self/cwd /../../bin 2>&1
        echo done
        """

    @Test func directAnswersAsTheSentryDoes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let sentry = fixture.sandboxed(["sh", "-c", MetadataProfileTests.survey], extra: ["--metadata=sentry"])
        let direct = fixture.sandboxed(["sh", "-c", MetadataProfileTests.survey], extra: ["--metadata=direct"])
        #expect(sentry.status == 0 && direct.status == 0, "\(sentry.stderr) \(direct.stderr)")
        #expect(sentry.lines.count > 25 && sentry.lines.last == "done", "\(sentry.stdout)")
        #expect(direct.stdout == sentry.stdout)
        // No host path appears through /proc's links.
        #expect(direct.lines.contains("/proc/self/root -> /") && !direct.stdout.contains(fixture.rootfs), "\(direct.stdout)")
    }

    /// What a workload does to its files: make, link, rename, change,
    /// cut and remove them, in a tmpfs and on the overlay root. Every
    /// printed mtime is set by touch, so a second's tick between the two
    /// runs cannot make them differ.
    static let fileWork = """
        umask 022; for d in /tmp/w /w; do mkdir -p $d/a/b && cd $d && echo hello > a/f && ln -s f a/l && ln a/f a/h
        mv a/h a/b/moved && chmod 640 a/f && truncate -s 3 a/b/moved && mkfifo a/p && touch -h -d @1000000000 a a/f a/l a/p
        stat -c '%n %s %a %h %F %Y' a a/f a/l a/b/moved a/p; cat a/l; echo; cat a/b/moved; echo; readlink a/l
        cd a/b && pwd && cd ../.. && rm a/l a/p && rmdir a/b 2>&1; rm a/b/moved && rmdir a/b && ls -A a; rm -r a
        ln -s /etc/passwd up; head -c 5 up; echo; rm up; cd /; done
        echo data > /tmp/x; exec 3</tmp/x; read -r line <&3; echo "fd: $line"; ls -l /proc/self/fd/3 | sed 's/.* -> //'
        ls /dev; echo to-null > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -c
        grep -c . /proc/self/status; readlink /proc/self/exe /proc/1/cwd; cat /proc/sys/kernel/hostname
        echo done
        """

    /// --files=direct: the same work gives the same answers as the sentry's.
    @Test func directFilesAnswerAsTheSentryDoes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        var outputs: [String] = []
        for profile in ["sentry", "direct"] {
            let bundle = try fixture.bundle("files-\(profile)", args: ["sh", "-c", MetadataProfileTests.fileWork]) { config in
                config["root"] = ["path": fixture.rootfs, "readonly": false]
                config["annotations"] = ["dev.moat.files": profile]
            }
            let result = fixture.run(bundle, extra: ["--overlay=memory"])
            #expect(result.status == 0 && result.lines.last == "done", "\(profile): \(result.stdout) \(result.stderr)")
            outputs.append(result.stdout)
        }
        #expect(outputs[0].split(separator: "\n").count > 25, "\(outputs[0])")
        #expect(outputs[1] == outputs[0])
    }

    /// A key of the host's kernel under /proc/sys, and /proc/sysrq-trigger,
    /// cannot be written in any profile, even by root with a config that
    /// leaves them writable: the sentry refuses them, and under
    /// --files=direct read-only binds do, on every procfs the config mounts
    /// (a second one at /proc2: the sentry knew only the last one before). What is written changes nothing if it
    /// lands: the key's own value, and sysrq's h (help, to the kernel log).
    @Test(arguments: ["sentry", "direct"]) func hostSysctlsStayReadOnly(profile: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let procs = ["/proc", "/proc2"]
        let script =
            procs.map { proc in
                "v=$(cat \(proc)/sys/kernel/printk_ratelimit) && echo $v > \(proc)/sys/kernel/printk_ratelimit && echo \(proc) written; "
                    + "echo h > \(proc)/sysrq-trigger && echo \(proc) sysrq; "
            }.joined() + "echo done"
        let bundle = try fixture.bundle("sysctl-\(profile)", args: ["sh", "-c", "mkdir -p /tmp/p; " + script]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["readonlyPaths"] = [String]()
            config["linux"] = linux
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/proc2", "type": "proc", "source": "proc"])
            config["mounts"] = mounts
            config["root"] = ["path": fixture.rootfs, "readonly": false]
        }
        let result = fixture.run(bundle, extra: ["--files=\(profile)", "--overlay=memory"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["done"], "\(result.stdout) \(result.stderr)")
        // (Kernels without CONFIG_MAGIC_SYSRQ, as this VM's, have no sysrq-trigger.)
        let sysrq = access("/proc/sysrq-trigger", F_OK) == 0
        let refusals = result.stderr.split(separator: "\n").filter { $0.contains("Read-only file system") }
        #expect(refusals.count == (sysrq ? 2 : 1) * procs.count, "\(result.stderr)")
    }

    /// A workload running as uid 1000 is refused what uid 1000 is refused,
    /// in every profile: the kernel checks the caller's own credentials.
    @Test func permissionsAreTheCallers() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let data = fixture.scratch("metadata-perms")
        try "secret".write(to: data.appendingPathComponent("secret"), atomically: true, encoding: .utf8)
        try "open".write(to: data.appendingPathComponent("open"), atomically: true, encoding: .utf8)
        let locked = data.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try "inner".write(to: locked.appendingPathComponent("inner"), atomically: true, encoding: .utf8)
        chmod(data.appendingPathComponent("secret").path, 0o600)
        chmod(data.appendingPathComponent("open").path, 0o644)
        chmod(locked.path, 0o700)
        chmod(data.path, 0o755)
        let script =
            "test -r /data/secret; echo secret=$?; test -r /data/open; echo open=$?; test -w /data/open; echo write=$?; "
            + "stat -c %s /data/locked/inner >/dev/null 2>&1; echo inner=$?; test -x /data/locked; echo locked=$?; "
            + "readlink /data/locked/inner; echo link=$?; cat /data/secret >/dev/null 2>&1; echo cat=$?; "
            + "cat /data/locked/inner >/dev/null 2>&1; echo inner-cat=$?; touch /data/new 2>/dev/null; echo touch=$?"
        var outputs: [String] = []
        for (key, profile) in [("metadata", "sentry"), ("metadata", "direct"), ("files", "direct")] {
            let bundle = try fixture.bundle("metadata-perms-\(profile)", args: ["sh", "-c", script]) { config in
                config.setProcess("user", ["uid": 1000, "gid": 1000])
                var mounts = config["mounts"] as! [[String: Any]]
                mounts.append(["destination": "/data", "type": "bind", "source": data.path, "options": ["rbind", "ro"]])
                config["mounts"] = mounts
                config["annotations"] = ["dev.moat.\(key)": profile]
            }
            let result = fixture.run(bundle)
            #expect(result.status == 0, "\(profile): \(result.stderr)")
            outputs.append(result.stdout)
        }
        #expect(
            outputs[0].split(separator: "\n") == [
                "secret=1", "open=0", "write=1", "inner=1", "locked=1", "link=1", "cat=1", "inner-cat=1", "touch=1"
            ],
            "\(outputs[0])")
        #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0], "\(outputs)")
    }

    /// The annotation chooses the profile (the filter then lets stat through:
    /// the sentry never sees it), the flag overrides it, and a profile that
    /// needs pivot_root is refused with --no-pivot before anything is made.
    @Test func annotationFlagAndRefusal() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        func trapped(_ names: [String], key: String = "metadata", annotation: String?, extra: [String]) throws -> Int {
            let bundle = try fixture.bundle(
                "metadata-annotation", args: ["sh", "-c", "stat / /etc >/dev/null; ls -l /bin >/dev/null; cat /etc/passwd /etc/group >/dev/null"]
            ) { config in
                if let annotation { config["annotations"] = ["dev.moat.\(key)": annotation] }
            }
            let report = bundle.appendingPathComponent("report.json").path
            let result = fixture.run(bundle, extra: ["--syscall-report", report] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
            let trapped = json?["trapped"] as? [[String: Any]] ?? []
            return trapped.filter { names.contains($0["name"] as? String ?? "") }.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        }
        let stats = ["stat", "lstat", "newfstatat", "statx"]
        #expect(try trapped(stats, annotation: nil, extra: []) > 10)
        #expect(try trapped(stats, annotation: "direct", extra: []) == 0)
        #expect(try trapped(stats, annotation: "direct", extra: ["--metadata=sentry"]) > 10)
        #expect(try trapped(stats, annotation: nil, extra: ["--metadata=direct"]) == 0)
        // --files=direct takes the opens too, and the metadata calls with them.
        let opens = ["open", "openat"]
        #expect(try trapped(opens, annotation: nil, extra: ["--metadata=direct"]) >= 2)
        #expect(try trapped(opens + stats, key: "files", annotation: "direct", extra: []) == 0)
        #expect(try trapped(opens, key: "files", annotation: "direct", extra: ["--files=sentry"]) >= 2)
        #expect(try trapped(opens + stats, annotation: nil, extra: ["--files=direct"]) == 0)
        let filesPivot = try fixture.bundle("files-nopivot", args: ["true"])
        let noPivot = fixture.run(filesPivot, id: "nopivot", extra: ["--files=direct", "--no-pivot"])
        #expect(noPivot.status == 2 && noPivot.stderr.contains("--files=direct needs pivot_root"), "\(noPivot.stderr)")

        let bundle = try fixture.bundle("metadata-nopivot", args: ["true"])
        let refused = fixture.run(bundle, id: "nopivot", extra: ["--metadata=direct", "--no-pivot"])
        #expect(refused.status == 2 && refused.stderr.contains("--no-pivot"), "\(refused.stderr)")
        let state = Command.run(fixture.moat, ["state", "--root", bundle.appendingPathComponent("state").path, "nopivot"])
        #expect(state.status != 0, "no container was made: \(state.stdout)")
        let bad = try fixture.bundle("metadata-bad", args: ["true"]) { $0["annotations"] = ["dev.moat.metadata": "fast"] }
        let rejected = fixture.run(bad)
        #expect(
            rejected.status == 2 && rejected.stderr.contains("annotations.dev.moat.metadata: give sentry or direct, not fast"),
            "\(rejected.stderr)")
    }
}
