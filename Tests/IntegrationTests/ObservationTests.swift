import Foundation
import Testing

/// --strace, --syscall-report and --count-all: what a run records, and that
/// observing never loosens the policy.
@Suite struct ObservationTests {
    let fixture = Fixture.shared

    @Test func straceOfLsIsReadableAndCorrect() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["ls", "/"], extra: ["--strace"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.contains("bin") && result.lines.contains("etc"), "ls still works: \(result.stdout)")
        let trace = result.stderr.split(separator: "\n").map { String($0.drop { $0 == " " }.drop { $0 != " " }.dropFirst()) }
        #expect(
            trace.contains { $0.hasPrefix("[1] execve(\"/bin/ls\", [\"ls\", \"/\"], ") && $0.hasSuffix(") = 0") },
            "\(result.stderr)")
        #expect(trace.contains("[1] openat(AT_FDCWD, \"/\", O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC, 00) = 3"), "\(result.stderr)")
        #expect(trace.contains { $0.hasPrefix("[1] getdents64(3, 0x") && !$0.hasSuffix("= 0") })
        #expect(trace.contains { $0.hasPrefix("[1] newfstatat(AT_FDCWD, \"/etc\", {st_mode=S_IFDIR|0755, st_size=") })
        #expect(trace.contains { $0.hasPrefix("[1] write(1, \"bin\\n") })
        #expect(trace.contains("[1] getpid() = 1") || !trace.contains { $0.contains("getpid") }, "emulated calls show the sandbox's view")
        #expect(trace.last == "[1] exit_group(0) = ?", "\(trace.last ?? "")")
    }

    @Test func straceListAndTheSandboxView() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(
            ["sh", "-c", "served_loop 2 >/dev/null; cat /nonexistent 2>/dev/null; exit 4"],
            extra: ["--strace=getpid,openat,exit_group"])
        #expect(result.status == 4)
        let names = Set(
            result.stderr.split(separator: "\n").compactMap { line in
                line.split(separator: "] ", maxSplits: 1).last.map { String($0.prefix { $0 != "(" }) }
            })
        #expect(names.isSubset(of: ["getpid", "openat", "exit_group"]) && names.contains("getpid"), "\(names)")
        #expect(
            result.stderr.contains("[1] getpid() = 1") && result.stderr.contains("[2] getpid() = 2"),
            "the sandbox's pids, as the workload saw them: \(result.stderr)")
        #expect(result.stderr.contains("openat(AT_FDCWD, \"/nonexistent\", O_RDONLY, 00) = -1 ENOENT (No such file or directory)"))
        #expect(result.stderr.contains("exit_group(4) = ?"))
    }

    @Test func reportListsRefusedCallsAndThePolicyHolds() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let path = fixture.scratch("report").appendingPathComponent("report.json").path
        for extra in [["--syscall-report", path], ["--syscall-report", path, "--count-all"]] {
            let result = fixture.sandboxed(["escape", "refused"], extra: extra)
            #expect(result.status == 0, "\(result.stderr)")
            // The workload sees exactly what it sees unobserved.
            #expect(result.lines.contains("mount=-1 Operation not permitted"))
            #expect(result.lines.contains("clone_newuser=-1 Operation not permitted"), "clone's flags still checked")
            #expect(result.lines.contains("io_uring_setup=-1 ENOSYS"))
            #expect(result.lines.last == "still running")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            let refused = try #require(json["refused"] as? [[String: Any]])
            let mount = try #require(refused.first { $0["name"] as? String == "mount" })
            #expect(mount["errno"] as? String == "EPERM")
            #expect((mount["arguments"] as? [String])?.count == 6)
            #expect(refused.contains { $0["name"] as? String == "io_uring_setup" && $0["errno"] as? String == "ENOSYS" })
            #expect(refused.contains { $0["name"] as? String == "clone" && $0["errno"] as? String == "EPERM" })
            #expect(result.stderr.contains("calls were refused (") && result.stderr.contains("see \(path)"), "\(result.stderr)")
            let counted = json["trapped"] as? [[String: Any]] ?? []
            let write = counted.first { $0["name"] as? String == "write" }
            if extra.contains("--count-all") {
                #expect(json["counted"] as? String == "all")
                #expect(write?["handling"] as? String == "passthrough" && (write?["count"] as? Int ?? 0) > 10)
            } else {
                #expect(write == nil, "passthrough calls are not counted without --count-all")
            }
        }
        // Nothing refused: no line on stderr.
        let quiet = fixture.sandboxed(["true"], extra: ["--syscall-report", path])
        #expect(quiet.status == 0 && !quiet.stderr.contains("refused"), "\(quiet.stderr)")
    }

    @Test func observationMistakes() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let unknown = fixture.sandboxed(["true"], extra: ["--strace=nosuchcall"])
        #expect(unknown.status == 2 && unknown.stderr == "moat: --strace: no syscall is named nosuchcall\n")
        let countAll = fixture.sandboxed(["true"], extra: ["--count-all"])
        #expect(countAll.status == 2 && countAll.stderr.contains("--count-all needs --syscall-report"))
    }

    /// send() (sendto with no address) runs without a trap; a sendto that
    /// names a unix socket path is still served by the sentry.
    @Test func sendWithoutAnAddressDoesNotTrap() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let report = fixture.scratch("sends").appendingPathComponent("report.json")
        let result = fixture.sandboxed(["sends", "1000"], extra: ["--syscall-report", report.path])
        #expect(result.status == 0 && result.stdout == "sent=1000 received=1000 datagrams=10\n", "\(result.stdout) \(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as! [String: Any]
        let trapped = (json["trapped"] as! [[String: Any]]).first { $0["name"] as? String == "sendto" }?["count"] as? Int
        #expect(trapped == 10, "only the sends to a path trap: \(trapped ?? -1)")
    }
}
