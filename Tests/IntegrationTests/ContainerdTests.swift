import Foundation
import Testing

/// containerd (Debian's 1.6, installed by scripts/bootstrap) with `ctr run
/// --runc-binary` pointing at Moat: its runc shim drives moat's create, start,
/// state, kill and delete.
@Suite(.serialized) struct ContainerdTests {
    let fixture = Fixture.shared

    func shell(_ script: String) -> Command.Result {
        // Files, not pipes: the daemon and its shims outlive the commands.
        let dir = fixture.scratch("sh")
        let out = dir.appendingPathComponent("out")
        let err = dir.appendingPathComponent("err")
        let status = Command.run(
            "/bin/bash", ["-c", "\(Fixture.closeInheritedFDs); (\(script)) >'\(out.path)' 2>'\(err.path)' </dev/null"],
            timeout: 120
        ).status
        return Command.Result(
            status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test func ctrRunsContainersOnMoat() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd"), "containerd is installed by scripts/bootstrap")
        let home = fixture.scratch("containerd")
        let socket = home.appendingPathComponent("containerd.sock").path
        try """
        version = 2
        root = "\(home.path)/root"
        state = "\(home.path)/state"
        [grpc]
          address = "\(socket)"
        """.write(to: home.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let daemon = shell("containerd --config '\(home.path)/config.toml' > '\(home.path)/log' 2>&1 & echo $!")
        let daemonPid = try #require(Int32(daemon.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(daemonPid, SIGTERM) }
        let ctr = "ctr --address '\(socket)'"
        #expect(eventually { shell("\(ctr) version").status == 0 })

        // The image: the busybox rootfs, by way of podman (installed for PodmanTests too).
        // podman wants a short runroot path.
        let short = "/tmp/mc\(getpid())"
        defer { _ = shell("rm -rf '\(short)'") }
        let tarball = home.appendingPathComponent("rootfs.tar").path
        let archive = home.appendingPathComponent("image.tar").path
        let made = shell(
            """
            tar -C '\(fixture.rootfs)' -cf '\(tarball)' . &&
            podman --root '\(short)/root' --runroot '\(short)/run' import '\(tarball)' localhost/moat-ctr >/dev/null &&
            podman --root '\(short)/root' --runroot '\(short)/run' save --format docker-archive -o '\(archive)' localhost/moat-ctr &&
            \(ctr) image import '\(archive)'
            """)
        #expect(made.status == 0, "\(made.stderr)")

        let run = shell("\(ctr) run --rm --runc-binary '\(fixture.moat)' localhost/moat-ctr:latest c1 sh -c 'echo hi pid=$$; exit 3'")
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stdout == "hi pid=1\n", "\(run.stdout)")

        #expect(shell("\(ctr) run -d --runc-binary '\(fixture.moat)' localhost/moat-ctr:latest c2 sleep 100").status == 0)
        #expect(shell("\(ctr) task ls").stdout.contains("RUNNING"))
        #expect(shell("\(ctr) task kill -s KILL c2").status == 0)
        #expect(eventually { shell("\(ctr) task ls").stdout.contains("STOPPED") })
        #expect(shell("\(ctr) task delete c2").status == 0)
        #expect(shell("\(ctr) container delete c2").status == 0)

        // ctr run -t: containerd reads create's output to EOF (this hung), the
        // workload gets a pty of its own. script(1) plays the terminal.
        let terminal = shell(
            "script -qec \"\(ctr) run -t --rm --runc-binary '\(fixture.moat)' localhost/moat-ctr:latest t1 tty\" /dev/null | tr -d '\\r\\000'")
        #expect(terminal.status == 0 && terminal.stdout.contains("/dev/pts/"), "\(terminal.stdout) \(terminal.stderr)")

        // A pod as the CRI plugin makes one: a pause task, then containers
        // that join its network namespace by the task's pid (Moat's
        // supervisor, which is in the sandbox's namespaces), over localhost.
        #expect(shell("\(ctr) run -d --runc-binary '\(fixture.moat)' localhost/moat-ctr:latest pause sleep 100").status == 0)
        let pausePid = shell("\(ctr) task ls | awk '$1 == \"pause\" { print $2 }'").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(pausePid) != nil, "\(pausePid)")
        let ours = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "?"
        let theirs = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pausePid)/ns/net")) ?? "?"
        #expect(theirs != ours && theirs.hasPrefix("net:["), "the task's network namespace is the pod's own: \(theirs)")
        let joined = "--with-ns network:/proc/\(pausePid)/ns/net"
        #expect(
            shell("\(ctr) run -d --runc-binary '\(fixture.moat)' \(joined) localhost/moat-ctr:latest srv sh -c 'echo from-srv | nc -l -p 9090'")
                .status == 0)
        let client = shell(
            "\(ctr) run --rm --runc-binary '\(fixture.moat)' \(joined) localhost/moat-ctr:latest cli sh -c 'readlink /proc/self/ns/net; for i in $(seq 50); do nc 127.0.0.1 9090 </dev/null && break; sleep 0.1; done'"
        )
        #expect(client.lines == [theirs, "from-srv"], "\(client.stdout) \(client.stderr)")
        // A shared process namespace, as the CRI plugin asks for shareProcessNamespace: the pause is pid 1.
        let sharedPids = shell(
            "\(ctr) run --rm --runc-binary '\(fixture.moat)' --with-ns pid:/proc/\(pausePid)/ns/pid localhost/moat-ctr:latest pidcli sh -c 'tr \"\\\\0\" \" \" < /proc/1/cmdline; echo; echo $$'"
        )
        #expect(
            sharedPids.status == 0 && sharedPids.lines.first == "sleep 100 " && sharedPids.lines.count == 2 && sharedPids.lines.last != "1",
            "\(sharedPids.stdout) \(sharedPids.stderr)")
        for task in ["srv", "pause"] {
            _ = shell("\(ctr) task kill -s KILL \(task)")
            #expect(eventually { shell("\(ctr) task delete \(task)").status == 0 }, "\(task) stops and is deleted")
            #expect(shell("\(ctr) container delete \(task)").status == 0)
        }
    }
}
