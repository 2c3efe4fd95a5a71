import Foundation
import Testing

/// podman (from Debian, installed by scripts/bootstrap) with Moat as its OCI
/// runtime, on its own storage and a local image made from the busybox rootfs.
@Suite(.serialized) struct PodmanTests {
    let fixture = Fixture.shared
    static let podman = "/usr/bin/podman"

    /// A podman confined to this test's directory. Its output goes through
    /// files, and every fd beyond stdio is closed first: conmon, which lives
    /// as long as a detached container, keeps whatever podman inherited, and
    /// Foundation's Process leaves the test's pipes open in its children.
    func podman(_ home: URL, _ args: [String], input: String = "") -> Command.Result {
        let global = [
            "--root", home.appendingPathComponent("storage").path,
            "--runroot", home.appendingPathComponent("run").path,
            "--runtime", fixture.moat, "--cgroup-manager", "cgroupfs", "--events-backend", "file"
        ]
        let out = home.appendingPathComponent("out")
        let err = home.appendingPathComponent("err")
        let stdin = home.appendingPathComponent("in")
        try? input.write(to: stdin, atomically: true, encoding: .utf8)
        let quoted = ([PodmanTests.podman] + global + args)
            .map { "'" + $0.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }
            .joined(separator: " ")
        let conf = home.appendingPathComponent("containers.conf").path
        let status = Command.run(
            "/bin/bash",
            ["-c", "\(Fixture.closeInheritedFDs); CONTAINERS_CONF='\(conf)' exec \(quoted) >'\(out.path)' 2>'\(err.path)' <'\(stdin.path)'"],
            timeout: 120
        ).status
        return Command.Result(
            status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func prepare(network: Bool = false) throws -> URL {
        let home = fixture.scratch("podman")
        // This machine's limits cannot be raised to podman's default rlimits
        // (no CAP_SYS_RESOURCE), so keep them within reach.
        try """
        [containers]
        \(network ? "" : "netns = \"none\"")
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        events_logger = "file"
        """.write(to: home.appendingPathComponent("containers.conf"), atomically: true, encoding: .utf8)
        let tarball = home.appendingPathComponent("rootfs.tar").path
        #expect(Command.run("/bin/tar", ["-C", fixture.rootfs, "-cf", tarball, "."]).status == 0)
        let imported = podman(home, ["import", tarball, "localhost/moat-busybox"])
        #expect(imported.status == 0, "podman import: \(imported.stderr)")
        return home
    }

    @Test func podmanRunsContainersOnMoat() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        try #require(FileManager.default.isExecutableFile(atPath: PodmanTests.podman), "podman is installed by scripts/bootstrap")
        let home = try prepare()

        let run = podman(
            home,
            [
                "run", "--rm", "localhost/moat-busybox", "sh", "-c",
                "echo hello pid=$$ $(uname -r); served_loop 10 >/dev/null && echo served; exit 3"
            ])
        #expect(run.status == 3, "exit code from the workload: \(run.status) \(run.stderr)")
        #expect(run.lines == ["hello pid=1 6.1.0-moat", "served"], "\(run.stdout) \(run.stderr)")

        // -t: Moat makes the pty in the sandbox's devpts and sends its master to conmon.
        let terminal = podman(home, ["run", "--rm", "-t", "localhost/moat-busybox", "sh", "-c", "tty; echo pid=$$"])
        #expect(terminal.status == 0, "\(terminal.stderr)")
        #expect(terminal.stdout == "/dev/pts/0\r\npid=1\r\n", "\(terminal.stdout.debugDescription) \(terminal.stderr)")

        let piped = podman(home, ["run", "--rm", "-i", "localhost/moat-busybox", "cat"], input: "piped through\n")
        #expect(piped.stdout == "piped through\n", "\(piped.stderr)")

        let created = podman(home, ["create", "localhost/moat-busybox", "sh", "-c", "echo in create; exit 7"])
        let createdID = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let attached = podman(home, ["start", "-a", createdID])
        #expect(attached.status == 7 && attached.stdout == "in create\n", "\(attached.stdout) \(attached.stderr)")
        #expect(podman(home, ["wait", createdID]).stdout == "7\n")
        #expect(podman(home, ["rm", createdID]).status == 0)

        let handler = podman(
            home,
            [
                "run", "-d", "localhost/moat-busybox", "sh", "-c",
                "trap 'echo got USR1' USR1; trap 'echo term; exit 0' TERM; echo ready; while true; do sleep 0.1; done"
            ])
        let handlerID = handler.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(eventually { podman(home, ["logs", handlerID]).stdout.contains("ready") })
        #expect(podman(home, ["inspect", "--format", "{{.State.Status}}", handlerID]).stdout == "running\n")
        #expect(podman(home, ["pause", handlerID]).status == 0)
        #expect(podman(home, ["inspect", "--format", "{{.State.Status}}", handlerID]).stdout == "paused\n")
        #expect(podman(home, ["unpause", handlerID]).status == 0)
        #expect(podman(home, ["kill", "-s", "USR1", handlerID]).status == 0)
        #expect(eventually { podman(home, ["logs", handlerID]).stdout.contains("got USR1") })
        #expect(podman(home, ["stop", "-t", "5", handlerID]).status == 0)
        #expect(podman(home, ["inspect", "--format", "{{.State.ExitCode}}", handlerID]).stdout == "0\n", "TERM was handled")
        #expect(podman(home, ["logs", handlerID]).stdout == "ready\ngot USR1\nterm\n")
        #expect(podman(home, ["rm", handlerID]).status == 0)

        let detached = podman(home, ["run", "-d", "localhost/moat-busybox", "sleep", "100"])
        #expect(detached.status == 0, "\(detached.stderr)")
        let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(podman(home, ["ps", "--format", "{{.ID}} {{.Status}}"]).stdout.contains("Up"))
        let exec = podman(home, ["exec", id, "sh", "-c", "echo exec pid=$$; exit 5"])
        #expect(exec.status == 5, "\(exec.stderr)")
        #expect(exec.stdout == "exec pid=2\n")
        // exec -t: a pty of the sandbox's devpts, its master sent to conmon.
        let execTerminal = podman(home, ["exec", "-t", id, "sh", "-c", "tty; exit 4"])
        #expect(execTerminal.status == 4, "\(execTerminal.stderr)")
        #expect(execTerminal.stdout == "/dev/pts/0\r\n", "\(execTerminal.stdout.debugDescription) \(execTerminal.stderr)")
        // top lists the container's processes (its own pids), not the host's.
        let top = podman(home, ["top", id, "pid", "args"])
        let rows = top.lines.dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(rows == [["1", "sleep", "100"]], "\(top.stdout) \(top.stderr)")
        let stopped = podman(home, ["stop", "-t", "1", id])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(podman(home, ["ps", "-a", "--format", "{{.Status}}"]).stdout.contains("Exited (137)"))
        #expect(podman(home, ["rm", id]).status == 0)
        #expect(podman(home, ["ps", "-aq"]).stdout.isEmpty)
    }

    /// podman's default network (netavark makes the network namespace and
    /// passes its path; Moat joins it): a published port fetched from the
    /// host, and podman stats and top on the container.
    @Test func podmansDefaultNetworkAndPublishedPorts() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        try #require(FileManager.default.isExecutableFile(atPath: PodmanTests.podman), "podman is installed by scripts/bootstrap")
        let home = try prepare(network: true)
        defer {
            _ = podman(home, ["rm", "--force", "--all"])
            _ = podman(home, ["rmi", "--force", "--all"])
        }
        let port = 18_000 + Int(getpid() % 1000)
        let server = podman(
            home,
            [
                "run", "-d", "-p", "\(port):8080", "localhost/moat-busybox", "sh", "-c",
                "while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nhi-from-podman' | nc -l -p 8080; done"
            ])
        #expect(server.status == 0, "\(server.stderr)")
        let id = server.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(eventually(20) { Command.run("/usr/bin/curl", ["-s", "--max-time", "2", "http://127.0.0.1:\(port)/"]).stdout == "hi-from-podman" })
        let stats = podman(home, ["stats", "--no-stream", "--format", "{{.PIDs}}", id])
        let pids = Int(stats.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(pids >= 2 && pids < 10, "the supervisor and the workload's processes: \(stats.stdout) \(stats.stderr)")
        #expect(podman(home, ["top", id]).stdout.contains("nc -l -p 8080"))
    }
}
