import Foundation
import Testing

/// A pod as the CRI plugin makes one: a pause container with network, ipc
/// and uts namespaces of its own, then containers that join them by path
/// (linux.namespaces[].path) and talk over localhost.
@Suite(.serialized) struct PodTests {
    let fixture = Fixture.shared

    func moat(_ root: String, _ args: [String]) -> Command.Result {
        Command.run(fixture.moat, ["--root", root] + args)
    }

    /// A detached container (create + start) of the shared rootfs.
    func start(_ root: String, _ id: String, args: [String], edit: @escaping (inout [String: Any]) -> Void) throws -> URL {
        let bundle = try fixture.bundle("pod-\(id)", args: args, edit: edit)
        let created = Command.run("/bin/sh", ["-c", "'\(fixture.moat)' --root '\(root)' create --bundle '\(bundle.path)' \(id) > /dev/null 2>&1"])
        #expect(created.status == 0, "create \(id)")
        #expect(moat(root, ["start", id]).status == 0, "start \(id)")
        return bundle
    }

    @Test func containersJoinAPausesNamespaces() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let root = fixture.scratch("pod").appendingPathComponent("state").path
        defer { for id in ["pause", "server"] { _ = moat(root, ["delete", "--force", id]) } }
        _ = try start(root, "pause", args: ["sleep", "60"]) { config in
            config["hostname"] = "the-pod"
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = ["pid", "mount", "network", "ipc", "uts"].map { ["type": $0] }
            config["linux"] = linux
        }
        // The pause's init, as the host sees it (CRI takes it from the task).
        let state = try Data(contentsOf: URL(fileURLWithPath: root + "/pause/state.json"))
        let initPid = try #require((try JSONSerialization.jsonObject(with: state) as? [String: Any])?["initPid"] as? Int)
        let joining: (inout [String: Any]) -> Void = { config in
            config.removeValue(forKey: "hostname")
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] =
                [["type": "pid"], ["type": "mount"]]
                + ["network", "ipc", "uts"].map { ["type": $0, "path": "/proc/\(initPid)/ns/\($0 == "network" ? "net" : $0)"] }
            config["linux"] = linux
        }
        _ = try start(root, "server", args: ["sh", "-c", "echo from-server | nc -l -p 8080"], edit: joining)
        let client = try fixture.bundle(
            "pod-client",
            args: [
                "sh", "-c",
                "hostname; for ns in net ipc uts; do readlink /proc/self/ns/$ns; done; "
                    + "for i in $(seq 50); do nc 127.0.0.1 8080 </dev/null 2>/dev/null && break; sleep 0.1; done"
            ], edit: joining)
        let result = fixture.run(client)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let expected = ["net", "ipc", "uts"].map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPid)/ns/\($0)")) ?? "?" }
        #expect(result.lines == ["the-pod"] + expected + ["from-server"], "\(result.lines) against \(expected)")

        // The escape suite again, from a container that joined the pod's namespaces.
        let (_, marker) = try fixture.escapeMarker("pod-marker")
        let escapes = try fixture.bundle(
            "pod-escapes",
            args: [
                "sh", "-c",
                "escape refused | tail -1; vfsescape '\(marker.path)' 'host secret'"
            ],
            edit: { config in
                joining(&config)
                config["root"] = ["path": fixture.rootfs, "readonly": true]
            })
        let escaped = fixture.run(escapes, timeout: 300)
        let cases = escaped.lines.filter { $0.contains("=") }
        #expect(escaped.status == 0 && escaped.lines.first == "still running", "\(escaped.stdout) \(escaped.stderr)")
        #expect(cases.count == 29 && cases.allSatisfy { $0.hasSuffix("=contained") }, "\(escaped.stdout)")
        let untouched = try String(contentsOf: marker, encoding: .utf8)
        #expect(!escaped.stdout.contains("host secret") && untouched == "host secret")
    }

    /// A pod with a shared process namespace (Kubernetes'
    /// shareProcessNamespace, Docker's --pid=container:X): the engines name
    /// it by the pid the runtime reports, Moat's supervisor's.
    @Test func containersJoinAPausesPidNamespace() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let root = fixture.scratch("pidpod").appendingPathComponent("state").path
        defer { for id in ["pause", "worker"] { _ = moat(root, ["delete", "--force", id]) } }
        _ = try start(root, "pause", args: ["sleep", "60"]) { _ in }
        let state = try Data(contentsOf: URL(fileURLWithPath: root + "/pause/state.json"))
        let fields = try #require(try JSONSerialization.jsonObject(with: state) as? [String: Any])
        let supervisor = try #require(fields["pid"] as? Int)
        let pauseInit = try #require(fields["initPid"] as? Int)
        let joining = { (path: String) in
            { (config: inout [String: Any]) in
                var linux = config["linux"] as! [String: Any]
                linux["namespaces"] = [["type": "pid", "path": path], ["type": "mount"], ["type": "ipc"], ["type": "uts"]]
                config["linux"] = linux
            }
        }
        // The pause is pid 1 to the joiner, which can see and signal it; the
        // joiner's background process ends with it.
        let joiner = try fixture.bundle(
            "pidpod-joiner",
            args: [
                "sh", "-c",
                "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo; kill -0 1 && echo signalled; sleep 100 & exit 4"
            ],
            edit: joining("/proc/\(supervisor)/ns/pid"))
        let result = fixture.run(joiner, timeout: 30)  // the sleep would outlive it
        #expect(result.status == 4 && result.lines.count == 3 && result.lines.first != "1", "\(result.stdout) \(result.stderr)")
        #expect(result.lines.dropFirst() == ["sleep 60 ", "signalled"], "\(result.stdout) \(result.stderr)")
        let ns = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pauseInit)/ns/pid")) ?? "?"
        // (Not counting zombies: orphans go to the pause, which this one does not reap.)
        let inNamespace = {
            Command.run(
                "/bin/sh",
                ["-c", "for p in /proc/[0-9]*; do [ \"$(readlink $p/ns/pid)\" = '\(ns)' ] && ! grep -q '^State:.Z' $p/status && echo $p; done"]
            ).lines
        }
        #expect(eventually { inNamespace() == ["/proc/\(pauseInit)"] }, "the joiner's sleep outlived it: \(inNamespace())")

        // Detached, by the init's own path: `ps` and `kill --all` are the worker's processes only.
        _ = try start(root, "worker", args: ["sh", "-c", "sleep 40 & sleep 30; exit 0"], edit: joining("/proc/\(pauseInit)/ns/pid"))
        #expect(
            eventually { moat(root, ["ps", "--format", "json", "worker"]).stdout.split(separator: ",").count == 3 },
            "\(moat(root, ["ps", "worker"]).stdout)")
        let listed = moat(root, ["ps", "--format", "json", "worker"]).stdout
        #expect(!listed.contains("\(pauseInit)"), "\(listed)")
        #expect(moat(root, ["kill", "--all", "worker", "KILL"]).status == 0)
        #expect(eventually { moat(root, ["state", "worker"]).stdout.contains("stopped") })
        #expect(moat(root, ["state", "pause"]).stdout.contains("running"), "the pause outlives the worker")
        #expect(eventually { inNamespace() == ["/proc/\(pauseInit)"] }, "\(inNamespace())")
    }

    /// A pod in a user namespace (Kubernetes' hostUsers: false): the pause
    /// makes it with its maps, the others join it by the supervisor's pid,
    /// with the pause's pid namespace. The joiner is root there, sees the
    /// maps, and its root has no power over host files the maps do not own.
    @Test func containersJoinAPausesUserNamespace() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let root = fixture.scratch("userpod").appendingPathComponent("state").path
        defer { _ = moat(root, ["delete", "--force", "pause"]) }
        _ = try start(root, "pause", args: ["sleep", "60"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = ["pid", "mount", "ipc", "uts", "user"].map { ["type": $0] }
            linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            config["linux"] = linux
        }
        let state = try Data(contentsOf: URL(fileURLWithPath: root + "/pause/state.json"))
        let fields = try #require(try JSONSerialization.jsonObject(with: state) as? [String: Any])
        let supervisor = try #require(fields["pid"] as? Int)
        let pauseInit = try #require(fields["initPid"] as? Int)
        let secret = fixture.scratch("userpod-secret")
        try "host secret\n".write(to: secret.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        chmod(secret.appendingPathComponent("f").path, 0o600)
        let joiner = try fixture.bundle(
            "userpod-joiner",
            args: [
                "sh", "-c",
                "id -u; awk '{print $1, $2, $3}' /proc/self/uid_map; readlink /proc/self/ns/user; tr '\\0' ' ' < /proc/1/cmdline; echo; cat /root/f 2>/dev/null || echo refused"
            ]
        ) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] =
                [["type": "mount"], ["type": "ipc"], ["type": "uts"]]
                + ["pid", "user"].map { ["type": $0, "path": "/proc/\(supervisor)/ns/\($0)"] }
            config["linux"] = linux
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/root", "type": "bind", "source": secret.path, "options": ["rbind"]])
            config["mounts"] = mounts
            config.setProcess(
                "capabilities",
                Dictionary(
                    uniqueKeysWithValues: ["bounding", "effective", "permitted"].map {
                        ($0, ["CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"])
                    }))
        }
        let result = fixture.run(joiner)
        let theirs = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pauseInit)/ns/user")) ?? "?"
        #expect(result.status == 0 && result.lines == ["0", "0 100000 65536", theirs, "sleep 60 ", "refused"], "\(result.stdout) \(result.stderr)")
        // Maps come from the namespace joined, never from the config as well.
        let both = try fixture.bundle("userpod-both", args: ["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "user", "path": "/proc/\(pauseInit)/ns/user"]]
            linux["uidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            linux["gidMappings"] = [["containerID": 0, "hostID": 100_000, "size": 65536]]
            config["linux"] = linux
        }
        let refused = fixture.run(both)
        #expect(
            refused.status == 125 && refused.stderr == "moat: linux.uidMappings: a joined user namespace brings its own maps\n", "\(refused.stderr)")
    }

    /// A mount namespace joined by path (the OCI suite's linux_ns_path): the
    /// root is set up and pivoted into there, as runc does, and the sandbox
    /// sees its rootfs, nothing of the host's.
    @Test func aContainerJoinsAMountNamespace() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let holder = Command.start("/usr/bin/unshare", ["--mount", "--propagation", "private", "sleep", "30"])
        defer {
            holder.process.terminate()
            _ = holder.finish(timeout: 10)
        }
        let pid = holder.process.processIdentifier
        let ours = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")) ?? "?"
        var theirs = "?"
        #expect(
            eventually {
                theirs = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")) ?? "?"
                return theirs != ours && theirs != "?"
            }, "unshare made its mount namespace")
        let bundle = try fixture.bundle(
            "join-mount", args: ["sh", "-c", "readlink /proc/self/ns/mnt; ls /bin/busybox; ls /work 2>/dev/null || echo no-host"]
        ) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid"], ["type": "uts"], ["type": "mount", "path": "/proc/\(pid)/ns/mnt"]]
            config["linux"] = linux
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0 && result.lines == [theirs, "/bin/busybox", "no-host"], "\(result.stdout) \(result.stderr) against \(theirs)")
    }

    /// Namespaces the config does not list are the runtime's own (the
    /// spec's MUST), but for pid and mount, which the sandbox always has.
    @Test func unlistedNamespacesAreInherited() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle(
            "inherit",
            args: [
                "sh", "-c",
                "for ns in ipc uts net cgroup pid mnt; do readlink /proc/self/ns/$ns; done; hostname"
            ]
        ) { config in
            config.removeValue(forKey: "hostname")
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid"], ["type": "mount"]]
            config["linux"] = linux
        }
        let result = fixture.run(bundle)
        let ours = ["ipc", "uts", "net", "cgroup", "pid", "mnt"].map {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\($0)")) ?? "?"
        }
        #expect(result.status == 0 && result.lines.count == 7, "\(result.stdout) \(result.stderr)")
        #expect(Array(result.lines.prefix(4)) == Array(ours.prefix(4)), "\(result.lines) against \(ours)")
        #expect(result.lines.count == 7 && result.lines[4] != ours[4] && result.lines[5] != ours[5], "\(result.lines)")
        #expect(result.lines.last == ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init), "\(result.lines)")
        // The host's names and keys are not the container's to set (as runc refuses them).
        for (edit, message) in [
            ({ (c: inout [String: Any]) in c["hostname"] = "mine" }, "moat: hostname: needs a uts namespace in linux.namespaces\n"),
            (
                { (c: inout [String: Any]) in
                    var linux = c["linux"] as! [String: Any]
                    linux["sysctl"] = ["kernel.shmmax": "1000000"]
                    c["linux"] = linux
                }, "moat: linux.sysctl.kernel.shmmax: needs an ipc namespace in linux.namespaces\n"
            )
        ] {
            let refused = try fixture.bundle("inherit-refused", args: ["true"]) { config in
                config.removeValue(forKey: "hostname")
                var linux = config["linux"] as! [String: Any]
                linux["namespaces"] = [["type": "pid"], ["type": "mount"]]
                config["linux"] = linux
                edit(&config)
            }
            let outcome = fixture.run(refused)
            #expect(outcome.status == 125 && outcome.stderr == message, "\(outcome.stderr)")
        }
    }

    @Test func joiningIsRefusedByNameWhereItIsNotSupported() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        // The host's pid namespace (moat's own, here) cannot be joined either.
        for (type, path) in [("pid", "/proc/self/ns/pid"), ("user", "/proc/self/ns/user"), ("network", "relative/net")] {
            let bundle = try fixture.bundle("join-\(type)", args: ["true"]) { config in
                var linux = config["linux"] as! [String: Any]
                var namespaces: [[String: String]] = [["type": "pid"], ["type": "mount"], ["type": "uts"]].filter { $0["type"] != type }
                namespaces.append(["type": type, "path": path])
                linux["namespaces"] = namespaces
                config["linux"] = linux
            }
            let result = fixture.run(bundle)
            #expect(result.status == 125 && result.stderr.hasPrefix("moat: linux.namespaces["), "\(type): \(result.stderr)")
        }
        let missing = try fixture.bundle("join-missing", args: ["true"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "uts"], ["type": "network", "path": "/proc/999999/ns/net"]]
            config["linux"] = linux
        }
        let result = fixture.run(missing)
        #expect(
            result.status == 125 && result.stderr == "moat: linux.namespaces path /proc/999999/ns/net: No such file or directory\n",
            "\(result.stderr)")
    }
}
