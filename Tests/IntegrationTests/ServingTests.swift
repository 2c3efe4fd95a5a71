import Foundation
import Testing

/// Calls served at once by the sentry's serving threads: a call that waits
/// on another sandbox process waits on its own, as in Linux, and the rest
/// of the sandbox keeps being served (both platforms: the suite runs twice).
@Suite struct ServingTests {
    let fixture = Fixture.shared

    /// The shell line that deadlocked the sandbox when one thread served
    /// every call: the reader's open waits for the writer's.
    @Test func aFifoBetweenTwoShellProcessesFinishes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["sh", "-c", "mkfifo /tmp/shellfifo; cat /tmp/shellfifo & echo hi > /tmp/shellfifo; wait; echo done"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["hi", "done"], "\(result.stdout)")
    }

    /// After half a second idle the supervisor drops its mappings of its own
    /// executable, data included (MOAT_TIMING reports it); what comes after
    /// (a served open, a fork and exec, a stat, exit) faults back what it
    /// needs. (How much RSS falls depends on the page cache's state: right
    /// after a build the binary's pages may not be reclaimable yet.)
    @Test func servingGoesOnAfterTheIdlePageOut() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = Command.run(
            "/usr/bin/env",
            [
                "MOAT_TIMING=1", fixture.moat, "do", "--rootfs", fixture.rootfs, "--", "sh", "-c",
                "sleep 2; head -c 4 /etc/passwd; echo; stat -c %n /bin/sh; sh -c 'echo child'"
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["root", "/bin/sh", "child"], "\(result.stdout)")
        #expect(result.stderr.contains("ms paged out"), "\(result.stderr)")
    }

    /// The supervisor maps its own code a page per fault (no fault-around):
    /// its executable's segments are registered with a userfaultfd, VmFlags
    /// "uw", under `run` and in the supervisor `create` forks (fork does not
    /// carry the registration over). Kernels before 6.7 cannot.
    @Test func theSupervisorMapsItsOwnCodeAPageAtATime() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        guard version.count == 2, version[0] > 6 || (version[0] == 6 && version[1] >= 7) else { return }
        // Long enough to outlast a loaded machine's create; both are killed at the end.
        let bundle = try fixture.bundle("own-image", args: ["sleep", "300"])
        let root = bundle.path + "/state"
        let run = Command.start(fixture.moat, ["run", "--root", root, "--bundle", bundle.path, "image-run"])
        // create's supervisor keeps its stdio: a file, not a pipe the test would wait on.
        let created = Command.run(
            "/bin/sh", ["-c", "'\(fixture.moat)' create --root '\(root)' --bundle '\(bundle.path)' image-create > '\(bundle.path)/created' 2>&1"])
        #expect(created.status == 0, "\((try? String(contentsOfFile: bundle.path + "/created", encoding: .utf8)) ?? "")")
        defer {
            _ = Command.run(fixture.moat, ["delete", "--root", root, "--force", "image-create"])
            _ = Command.run(fixture.moat, ["kill", "--root", root, "image-run", "KILL"])
            _ = run.finish()
        }
        let supervisors = [
            "image-run": run.process.processIdentifier, "image-create": try #require(processWhoseCommandEnds(with: "image-create"))
        ]
        let executable = URL(fileURLWithPath: fixture.moat).resolvingSymlinksInPath().path
        for (id, pid) in supervisors {
            #expect(eventually { codeSegmentFlags(pid, executable).count >= 2 }, "\(id): no mappings of \(executable)")
            let flags = codeSegmentFlags(pid, executable)
            #expect(!flags.isEmpty && flags.allSatisfy { $0.contains("uw") }, "\(id): \(flags)")
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            let userfaultfds = fds.filter {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "anon_inode:[userfaultfd]"
            }
            #expect(userfaultfds.count == 1, "\(id): \(userfaultfds)")
        }
    }

    /// The VmFlags of each of `pid`'s mappings of `executable`.
    func codeSegmentFlags(_ pid: Int32, _ executable: String) -> [String] {
        guard let smaps = try? String(contentsOfFile: "/proc/\(pid)/smaps", encoding: .utf8) else { return [] }
        var flags: [String] = []
        var inExecutable = false
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") && !line.hasPrefix("VmFlags") {
                inExecutable = line.hasSuffix(" " + executable)
            } else if inExecutable && line.hasPrefix("VmFlags:") {
                flags.append(String(line))
            }
        }
        return flags
    }

    /// The one process whose command line ends with `argument`.
    func processWhoseCommandEnds(with argument: String) -> Int32? {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.first { pid in
            guard let line = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            return line.split(separator: 0).last.map { String(decoding: $0, as: UTF8.self) } == argument
        }
    }

    @Test func aReaderAndAWriterOpenOneFifo() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["fifos", "pair"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["read=hi", "reader=exit 0", "truncate=Invalid argument"], "\(result.stdout)")
    }

    /// Processes blocked forever in a FIFO's open do not stop another from
    /// being served; a handler, SIGTERM and SIGKILL end them as Linux
    /// would, and the serving thread gives up its open: no reader is left
    /// behind for a writer to find.
    @Test func anOpenBlockedForeverEndsBySignalsAndStallsNothing() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["fifos", "blocked"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "worker=exit 0", "handled=exit 7", "termed=signal 15", "killed=signal 9",
                "writer=No such device or address"
            ], "\(result.stdout)")
    }

    /// A blocking unix connect to a full backlog waits until the server
    /// accepts, and a blocking send to a unix datagram path whose receiver
    /// is full waits until it reads (nonblocking ones are EAGAIN), as on Linux.
    @Test(arguments: ["connect", "send"])
    func socketCallsWaitForTheirPeer(call: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["blocking", call])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == ["nonblocking=Resource temporarily unavailable", "waited=yes", "\(call)=ok", "returned=yes"],
            "\(result.stdout)")
    }

    /// Three shells at once write a script and run it, 300 times each: a
    /// donated fd is answered only after the sentry closed its copy (no
    /// ETXTBSY), and an open never returns 0 for the fd it donated.
    @Test func scriptsWrittenAndRunAtOnceRun() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let script =
            "w() { i=0; while [ $i -lt 300 ]; do printf '#!/bin/sh\\necho ok\\n' > /tmp/s$1; chmod +x /tmp/s$1; "
            + "/tmp/s$1 >/dev/null || echo fail$1; i=$((i+1)); done; }; w a & w b & w c; wait; echo done"
        let result = fixture.sandboxed(["sh", "-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "done\n" && result.stderr.isEmpty, "\(result.stdout) \(result.stderr)")
    }

    /// Opens under a storm of signals: a signal that interrupts an open
    /// after the sentry gave the fd must not leave it in the caller's table
    /// (installed and answered at once), and no open fails or returns 0.
    @Test func opensUnderASignalStormLeakNothing() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["signalopens"], extra: ["--writable"])
        #expect(result.status == 0 && result.stdout == "fds=3 failed=0 zero=0\n", "\(result.stdout) \(result.stderr)")
    }

    /// 10,000 threads (64 alive at once) each making served calls: every
    /// answer is right and the run ends (the time is `moat bench`'s and
    /// scripts/bench-concurrency's to report, not a test's).
    @Test func aStormOfThreadsIsServed() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = Command.run(fixture.moat, ["do", "--rootfs", fixture.rootfs, "--", "threadstorm", "10000", "10"], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["threads=10000 calls=20 wrong=0"], "\(result.stdout)")
    }

    /// Many threads alive at once, all calling: none waits for long behind the others.
    @Test func manyThreadsCallingAtOnceAreServed() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = Command.run(
            fixture.moat, ["do", "--rootfs", fixture.rootfs, "--", "threadstorm", "2000", "20", "2000"],
            timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["threads=2000 calls=40 wrong=0"], "\(result.stdout)")
    }

    /// Four processes looping on stat and open at once: every call succeeds.
    @Test(arguments: ["stat", "open"])
    func concurrentCallersAllSucceed(call: String) throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["callrate", call, "4", "300"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("\(call) processes=4 calls="), "\(result.stdout)")
    }

    /// While serving a call a thread holds exactly its caller's capabilities
    /// (and the kernel makes the ptrace check on another process's files for
    /// them): /proc/kallsyms shows zeros, privileged netlink groups are
    /// EPERM, and the mem of a non-dumpable or more capable process is
    /// EACCES: what runc gives the same program.
    @Test func theSentryLendsNoPrivilege() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["deputy"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "kallsyms=zeros", "audit=Operation not permitted", "conntrack=Operation not permitted",
                "xfrm=Operation not permitted", "route=ok", "mem_same=ok", "mem_nondumpable=Permission denied",
                "mem_more_capable=Permission denied"
            ], "\(result.stdout)")
    }
}
