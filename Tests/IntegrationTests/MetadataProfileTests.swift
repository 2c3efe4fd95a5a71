import Foundation
import Testing

/// The --metadata=direct profile: stat, access and readlink run on the host
/// kernel inside the sandbox's mount namespace. They must answer exactly as
/// the sentry does (the escapes are in EscapeTests), with the caller's own
/// permissions, and the profile is chosen by flag or annotation.
@Suite struct MetadataProfileTests {
    let fixture = Fixture.shared

    /// What a workload learns about its files through the metadata calls.
    static let survey = """
        stat -c '%n %s %u %g %a %F %h' / /etc /bin/sh /proc/self/status /dev/null /dev/zero /tmp /proc/1 /sys 2>&1
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

    /// A workload running as uid 1000 is refused what uid 1000 is refused,
    /// in both profiles: the kernel checks the caller's own credentials.
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
            + "readlink /data/locked/inner; echo link=$?"
        var outputs: [String] = []
        for profile in ["sentry", "direct"] {
            let bundle = try fixture.bundle("metadata-perms-\(profile)", args: ["sh", "-c", script]) { config in
                config.setProcess("user", ["uid": 1000, "gid": 1000])
                var mounts = config["mounts"] as! [[String: Any]]
                mounts.append(["destination": "/data", "type": "bind", "source": data.path, "options": ["rbind", "ro"]])
                config["mounts"] = mounts
                config["annotations"] = ["dev.moat.metadata": profile]
            }
            let result = fixture.run(bundle)
            #expect(result.status == 0, "\(profile): \(result.stderr)")
            outputs.append(result.stdout)
        }
        #expect(
            outputs[0].split(separator: "\n") == ["secret=1", "open=0", "write=1", "inner=1", "locked=1", "link=1"],
            "\(outputs[0])")
        #expect(outputs[1] == outputs[0])
    }

    /// The annotation chooses the profile (the filter then lets stat through:
    /// the sentry never sees it), the flag overrides it, and a profile that
    /// needs pivot_root is refused with --no-pivot before anything is made.
    @Test func annotationFlagAndRefusal() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        func trappedStats(annotation: String?, extra: [String]) throws -> Int {
            let bundle = try fixture.bundle("metadata-annotation", args: ["sh", "-c", "stat / /etc >/dev/null; ls -l /bin >/dev/null"]) { config in
                if let annotation { config["annotations"] = ["dev.moat.metadata": annotation] }
            }
            let report = bundle.appendingPathComponent("report.json").path
            let result = fixture.run(bundle, extra: ["--syscall-report", report] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
            let trapped = json?["trapped"] as? [[String: Any]] ?? []
            return trapped.filter { ["stat", "lstat", "newfstatat", "statx"].contains($0["name"] as? String ?? "") }
                .reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        }
        #expect(try trappedStats(annotation: nil, extra: []) > 10)
        #expect(try trappedStats(annotation: "direct", extra: []) == 0)
        #expect(try trappedStats(annotation: "direct", extra: ["--metadata=sentry"]) > 10)
        #expect(try trappedStats(annotation: nil, extra: ["--metadata=direct"]) == 0)

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
