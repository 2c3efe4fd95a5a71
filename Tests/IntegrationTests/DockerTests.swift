import Foundation
import Testing

/// Docker (Debian's docker.io, installed by scripts/bootstrap) with Moat
/// registered as a runtime, as a user registers it: dockerd's containerd
/// shim drives moat create/start/state/kill/delete with Docker's own
/// configs (oomScoreAdj, no-op resources, a 64-hex id under a long state
/// root, a console socket for -t). The test starts its own dockerd (there
/// is no systemd here) on private paths and stops it after.
@Suite(.serialized) struct DockerTests {
    let fixture = Fixture.shared

    func shell(_ script: String, timeout: Double = 120) -> Command.Result {
        // Files, not pipes: the daemon and its shims outlive the commands.
        let dir = fixture.scratch("sh")
        let out = dir.appendingPathComponent("out")
        let err = dir.appendingPathComponent("err")
        let status = Command.run(
            "/bin/bash", ["-c", "\(Fixture.closeInheritedFDs); (\(script)) >'\(out.path)' 2>'\(err.path)' </dev/null"],
            timeout: timeout
        ).status
        return Command.Result(
            status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test func dockerRunsContainersOnMoat() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd"), "docker.io is installed by scripts/bootstrap")
        // Short paths: containerd's sockets live under the exec root.
        let home = "/tmp/md\(getpid())"
        let socket = "\(home)/docker.sock"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        // dockerd leaves exec/netns/default mounted (the host's network
        // namespace, bound there); unmounted first, or rm -rf fails on it
        // and every run leaves one more mount that each later mount namespace copies.
        defer { _ = shell("awk '$5 ~ \"^\(home)/\" {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l; rm -rf '\(home)'") }
        // A bridge of the test's own (never the host's docker0); ports are
        // published by docker-proxy, without iptables.
        let bridge = "moatbr\(getpid() % 100_000)"
        #expect(shell("ip link add \(bridge) type bridge && ip link set \(bridge) up").status == 0)
        defer { _ = shell("ip link del \(bridge)") }
        try """
        {"runtimes": {"moat": {"path": "\(fixture.moat)"}},
         "data-root": "\(home)/data", "exec-root": "\(home)/exec", "pidfile": "\(home)/docker.pid",
         "hosts": ["unix://\(socket)"], "bridge": "\(bridge)", "iptables": false, "ip-masq": false,
         "log-driver": "json-file"}
        """.write(toFile: "\(home)/daemon.json", atomically: true, encoding: .utf8)
        let daemon = shell("dockerd --config-file '\(home)/daemon.json' > '\(home)/log' 2>&1 & echo $!")
        let daemonPid = try #require(Int32(daemon.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer {
            // dockerd unmounts its layers and stops its containerd on TERM.
            kill(daemonPid, SIGTERM)
            _ = eventually(30) { kill(daemonPid, 0) != 0 }
        }
        // Debian's client, whatever else is first on PATH.
        let docker = "/usr/bin/docker -H 'unix://\(socket)'"
        #expect(eventually(30) { shell("\(docker) info").status == 0 }, "dockerd: \(shell("tail -5 '\(home)/log'").stdout)")
        defer { _ = shell("\(docker) rm -f $(\(docker) ps -aq) 2>/dev/null; \(docker) rmi -f moat-test:busybox") }

        // No registry: the image is the busybox rootfs, imported.
        let imported = shell("tar -C '\(fixture.rootfs)' -c . | \(docker) import - moat-test:busybox")
        #expect(imported.status == 0, "\(imported.stderr)")
        let run = "\(docker) run --rm --runtime=moat --network none"

        // Exit codes and output; pid 1 is the workload.
        let plain = shell("\(run) moat-test:busybox sh -c 'echo hi pid=$$; exit 3'")
        #expect(plain.status == 3 && plain.stdout == "hi pid=1\n", "\(plain.stdout) \(plain.stderr)")
        // -t: a pty of the sandbox's own (this hung: containerd read create's output to EOF).
        let tty = shell("timeout 60 \(run) -t moat-test:busybox tty")
        #expect(tty.status == 0 && tty.stdout.hasPrefix("/dev/pts/"), "\(tty.stdout) \(tty.stderr)")
        // -i: stdin reaches the workload.
        let stdin = shell("echo through-stdin | \(run) -i moat-test:busybox cat")
        #expect(stdin.stdout == "through-stdin\n", "\(stdin.stdout) \(stdin.stderr)")
        // --memory: Docker sends the limit, swap twice it, and its no-op resources.
        let memory = shell("\(run) --memory 64m moat-test:busybox head -1 /proc/meminfo")
        #expect(memory.stdout == "MemTotal:          65536 kB\n", "\(memory.stdout) \(memory.stderr)")
        // --user and --read-only.
        let user = shell("\(run) --user 1000:1000 --read-only moat-test:busybox sh -c 'id -u; touch /x 2>/dev/null || echo read-only'")
        #expect(user.lines == ["1000", "read-only"], "\(user.stdout) \(user.stderr)")

        // --device: made in the container's /dev.
        let device = shell("\(run) --device /dev/fuse moat-test:busybox stat -c '%F %t:%T' /dev/fuse")
        #expect(device.stdout == "character special file a:e5\n", "\(device.stdout) \(device.stderr)")
        // --network=host: Docker passes the host's network namespace by path.
        let hostNetwork = shell("\(docker) run --rm --runtime=moat --network host moat-test:busybox readlink /proc/self/ns/net")
        let ours = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "?"
        #expect(hostNetwork.stdout == ours + "\n", "\(hostNetwork.stdout) \(hostNetwork.stderr) against \(ours)")
        // --ipc=host leaves the namespace out of the config: the host's is inherited.
        let hostIPC = shell("\(run) --ipc host moat-test:busybox readlink /proc/self/ns/ipc")
        let ourIPC = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/ipc")) ?? "?"
        #expect(hostIPC.stdout == ourIPC + "\n", "\(hostIPC.stdout) \(hostIPC.stderr) against \(ourIPC)")

        // What users ask of docker run, each as runc gives it.
        let shared = "\(home)/shared"
        #expect(shell("mkdir -p '\(shared)' && echo from-host > '\(shared)/f'").status == 0)
        let options = shell(
            """
            \(run) --tmpfs /scratch -v '\(shared)':/data -v '\(shared)':/ro:ro --init --cap-add SYS_ADMIN \
              --sysctl net.ipv4.ip_forward=1 --ulimit nofile=1000:1000 moat-test:busybox sh -c \
              'echo x > /scratch/y && cat /scratch/y; cat /data/f; echo back > /data/g; touch /ro/h 2>/dev/null || echo ro;
               tr "\\0" " " < /proc/1/cmdline | cut -d" " -f1; grep CapEff /proc/self/status | cut -f2;
               cat /proc/sys/net/ipv4/ip_forward; ulimit -n'
            """)
        #expect(
            options.lines == ["x", "from-host", "ro", "/sbin/docker-init", "00000000a82425fb", "1", "1000"],
            "\(options.stdout) \(options.stderr)")
        #expect((try? String(contentsOfFile: "\(shared)/g", encoding: .utf8)) == "back\n")
        // --pids-limit and --cpus reach the container's cgroup.
        // (busybox's sh gives up at the first fork that fails.)
        let limits = shell("\(run) --pids-limit 20 --cpus 0.5 moat-test:busybox sh -c 'for i in $(seq 40); do sleep 5 & done; echo all-forked'")
        #expect(limits.status != 0 && limits.stdout.isEmpty && limits.stderr.contains("can't fork"), "\(limits.stdout) \(limits.stderr)")
        // --memory: a memory bomb is OOM-killed (137).
        let oom = shell("\(run) --memory 32m moat-test:busybox sh -c 'x=a; while true; do x=$x$x; done'")
        #expect(oom.status == 137, "\(oom.status) \(oom.stderr)")
        // The default bridge network with a published port, fetched from the host.
        let port = 19_000 + Int(getpid() % 1000)
        let server = shell(
            "\(docker) run -d --runtime=moat -p \(port):8080 moat-test:busybox sh -c 'while true; do printf \"HTTP/1.0 200 OK\\r\\n\\r\\nhi-from-moat\" | nc -l -p 8080; done'"
        )
        let serverID = server.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(server.status == 0, "\(server.stderr)")
        #expect(eventually(20) { shell("curl -s --max-time 2 http://127.0.0.1:\(port)/").stdout == "hi-from-moat" })
        _ = shell("\(docker) rm -f \(serverID)")

        // Detached: logs, exec (Docker's --process file), stop (TERM handled).
        let started = shell(
            "\(docker) run -d --runtime=moat --network none moat-test:busybox sh -c 'echo started; trap \"echo stopping; exit 0\" TERM; while :; do sleep 0.1; done'"
        )
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(started.status == 0 && id.count == 64, "\(started.stdout) \(started.stderr)")
        #expect(eventually { shell("\(docker) logs \(id)").stdout.contains("started") })
        // The config Docker gave Moat, and Moat's state, against the runtime-spec schema.
        let validator = fixture.packageRoot.appendingPathComponent("scripts/validate-oci-json").path
        let bundle = "\(home)/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/\(id)"
        let schema = shell(
            "'\(validator)' config '\(bundle)/config.json' && '\(fixture.moat)' --root '\(home)/exec/runtime-runc/moby' state \(id) | '\(validator)' state -"
        )
        #expect(schema.status == 0, "\(schema.stdout) \(schema.stderr)")
        let exec = shell("\(docker) exec \(id) sh -c 'echo exec-ok; cat /proc/1/cmdline | tr \"\\\\0\" \" \"'")
        #expect(exec.status == 0 && exec.stdout.hasPrefix("exec-ok\nsh -c echo started"), "\(exec.stdout) \(exec.stderr)")
        // docker stats reads the cgroup of the pid Moat reports, the supervisor's: the container's.
        let stats = shell("\(docker) stats --no-stream --format '{{.CPUPerc}} {{.MemUsage}} {{.PIDs}}' \(id)")
        let fields = stats.stdout.split(separator: " ")
        let cpu = Double(fields.first?.dropLast() ?? "") ?? -1
        let pids = Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        #expect(cpu >= 0 && cpu < 50 && pids >= 2 && pids < 10, "an idle loop, the supervisor and sh: \(stats.stdout) \(stats.stderr)")
        // exec -it: a pty of the sandbox's own for the joined process; script(1) plays the terminal.
        let execTerminal = shell("script -qec \"\(docker) exec -it \(id) tty\" /dev/null | tr -d '\\r'")
        #expect(execTerminal.stdout.contains("/dev/pts/"), "\(execTerminal.stdout) \(execTerminal.stderr)")
        // --network=container:X joins X's network namespace (by the path of its task's pid, Moat's supervisor).
        let neighbour = shell("\(docker) run --rm --runtime=moat --network container:\(id) moat-test:busybox readlink /proc/self/ns/net")
        let inside = shell("\(docker) exec \(id) readlink /proc/self/ns/net")
        #expect(
            neighbour.status == 0 && neighbour.stdout == inside.stdout && !inside.stdout.isEmpty,
            "\(neighbour.stdout) \(neighbour.stderr) \(inside.stdout)")
        // --pid=container:X joins X's sandbox's pid namespace (Docker names it by the supervisor's pid).
        let sharedPids = shell(
            "\(docker) run --rm --runtime=moat --network none --pid container:\(id) moat-test:busybox sh -c 'tr \"\\\\0\" \" \" < /proc/1/cmdline; echo; echo $$'"
        )
        #expect(
            sharedPids.status == 0 && sharedPids.lines.first?.hasPrefix("sh -c echo started") == true && sharedPids.lines.last != "1",
            "\(sharedPids.stdout) \(sharedPids.stderr)")
        // pause/unpause (a group-stop from outside), cp both ways, top.
        #expect(shell("\(docker) pause \(id)").status == 0)
        #expect(shell("\(docker) inspect -f '{{.State.Status}}' \(id)").stdout == "paused\n")
        #expect(shell("\(docker) unpause \(id)").status == 0)
        #expect(shell("\(docker) inspect -f '{{.State.Status}}' \(id)").stdout == "running\n")
        #expect(
            shell("echo copied-in > '\(home)/in' && \(docker) cp '\(home)/in' \(id):/tmp/in && \(docker) exec \(id) cat /tmp/in").stdout
                == "copied-in\n")
        #expect(shell("\(docker) cp \(id):/etc/hostname '\(home)/out' && cat '\(home)/out'").stdout == String(id.prefix(12)) + "\n")
        #expect(shell("\(docker) top \(id)").stdout.contains("while :"))
        // docker update reaches `moat update --resources -` through the shim.
        #expect(shell("\(docker) update --memory 48m --memory-swap 96m \(id)").status == 0)
        #expect(shell("\(docker) stats --no-stream --format '{{.MemUsage}}' \(id)").stdout.hasSuffix("/ 48MiB\n"))
        // restart: stop (TERM handled), then a new container process.
        #expect(shell("\(docker) restart -t 10 \(id)").status == 0)
        #expect(eventually { shell("\(docker) logs \(id)").stdout.components(separatedBy: "started").count == 3 })
        #expect(shell("\(docker) stop -t 10 \(id)").status == 0)
        #expect(shell("\(docker) inspect -f '{{.State.ExitCode}}' \(id)").stdout == "0\n")
        #expect(shell("\(docker) logs \(id)").stdout.contains("stopping"))
        #expect(shell("\(docker) rm \(id)").status == 0)

        // stop of a container that ignores TERM: KILL after the timeout (137);
        // commit of a container's changes into an image that runs again.
        let stubborn = shell(
            "\(docker) run -d --runtime=moat --network none moat-test:busybox sh -c 'trap \"\" TERM; echo changed > /etc/motd; while :; do sleep 0.1; done'"
        )
        let stubbornID = stubborn.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(stubborn.status == 0, "\(stubborn.stderr)")
        #expect(eventually { shell("\(docker) exec \(stubbornID) cat /etc/motd").stdout == "changed\n" })
        #expect(shell("\(docker) commit \(stubbornID) moat-test:committed").status == 0)
        #expect(shell("\(docker) stop -t 1 \(stubbornID)").status == 0)
        #expect(shell("\(docker) inspect -f '{{.State.ExitCode}}' \(stubbornID)").stdout == "137\n")
        _ = shell("\(docker) rm \(stubbornID)")
        let committed = shell("\(run) moat-test:committed cat /etc/motd")
        #expect(committed.stdout == "changed\n", "\(committed.stdout) \(committed.stderr)")
        _ = shell("\(docker) rmi moat-test:committed")
    }
}
