import Foundation
import Testing

/// Limits and abuse: the config's rlimits, floods of output and files, and a
/// supervisor killed at random moments leaving nothing behind.
@Suite struct LimitsTests {
    let fixture = Fixture.shared

    /// chdir takes no fd slot on Linux; the sentry hands the caller the
    /// directory over a socket pair, so at RLIMIT_NOFILE it raises the soft
    /// limit for that moment and puts it back.
    @Test func chdirAtTheFileLimit() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["chdirfull"])
        #expect(result.status == 0 && result.stdout == "full=1 chdir=ok cwd=/tmp soft=16 hard=64\n", "\(result.stdout) \(result.stderr)")
    }

    /// The caller's RLIMIT_FSIZE binds the sentry's truncate by path as the
    /// kernel's ftruncate: EFBIG, and SIGXFSZ (fatal unless ignored).
    @Test func fileSizeLimitBindsTruncateByPath() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let result = fixture.sandboxed(["fsize"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.lines == [
                "truncate_grow=File too large", "truncate_within=ok", "ftruncate_grow=File too large",
                "child=File size limit exceeded"
            ], "\(result.stdout)")
    }

    @Test func rlimitsFromTheConfigApply() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let bundle = try fixture.bundle("rlimits", args: ["sh", "-c", "grep -E 'open files|processes|core file|stack' /proc/self/limits"]) { config in
            config.setProcess(
                "rlimits",
                [
                    ["type": "RLIMIT_NOFILE", "soft": 64, "hard": 128],
                    ["type": "RLIMIT_NPROC", "soft": 50, "hard": 60],
                    ["type": "RLIMIT_CORE", "soft": 0, "hard": 0],
                    ["type": "RLIMIT_STACK", "soft": 4 << 20, "hard": 8 << 20]
                ])
        }
        let result = fixture.run(bundle)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        func limit(_ name: String) -> [String] {
            rows.first { $0.joined(separator: " ").hasPrefix(name) }.map { Array($0.suffix(3).prefix(2)) } ?? []
        }
        #expect(limit("Max open files") == ["64", "128"], "\(result.stdout)")
        #expect(limit("Max processes") == ["50", "60"])
        #expect(limit("Max core file size") == ["0", "0"])
        #expect(limit("Max stack size") == ["\(4 << 20)", "\(8 << 20)"])
    }

    /// 64 MB on stdout and on stderr pass straight through, all of it.
    @Test func outputFloodsPassThrough() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let errors = fixture.scratch("flood").appendingPathComponent("stderr").path
        let script =
            "\(Fixture.closeInheritedFDs); '\(fixture.moat)' do --rootfs '\(fixture.rootfs)' -- sh -c "
            + "'head -c 67108864 /dev/zero; head -c 67108864 /dev/zero >&2' 2>'\(errors)' | wc -c"
        let result = Command.run("/bin/bash", ["-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "67108864")
        let size = (try? FileManager.default.attributesOfItem(atPath: errors)[.size] as? Int) ?? 0
        #expect(size == 67_108_864)
    }

    /// A moat exec'd by a shell inherits the shell's other children: it must
    /// finish with the workload, not wait (or spin) for them.
    @Test func childrenThatAreNotTheWorkloadsDoNotHoldTheSupervisor() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let start = Date()
        let result = Command.run(
            "/bin/bash",
            [
                "-c",
                "\(Fixture.closeInheritedFDs); sleep 30 >/dev/null 2>&1 & exec '\(fixture.moat)' do --rootfs '\(fixture.rootfs)' -- sh -c 'exit 3'"
            ],
            timeout: 60)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(Date().timeIntervalSince(start) < 10, "it waited for the shell's sleep")
    }

    /// 100,000 files in the sandbox's tmpfs: created, listed, removed.
    @Test func aHundredThousandFilesInATmpfs() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        // (Each stage's status goes to stderr, shown if the count is wrong.)
        let result = fixture.sandboxed([
            "sh", "-c",
            "cd /tmp && { seq 100000; echo seq=$? >&2; } | { xargs touch; echo xargs=$? >&2; ls -l /proc/self/fd/0 >&2; echo unread=$(wc -c) >&2; } && ls | wc -l && rm -f * && ls | wc -l"
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.map { $0.trimmingCharacters(in: .whitespaces) } == ["100000", "0"], "\(result.stdout) \(result.stderr.prefix(2000))")
    }

    /// SIGKILL of the supervisor at random moments (during fork and exec
    /// storms): every task of the sandbox dies with it.
    @Test func aSupervisorKilledAtRandomLeavesNothing() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let marker = "moat-kill-\(getpid())"
        var generator = SystemRandomNumberGenerator()
        for round in 0..<8 {
            let running = Command.start(
                fixture.moat,
                [
                    "do", "--rootfs", fixture.rootfs, "--", "sh", "-c",
                    "while true; do /bin/true; sh -c 'sleep 100' \(marker) & done"
                ])
            usleep(UInt32.random(in: 1_000...60_000, using: &generator))
            kill(running.process.processIdentifier, SIGKILL)
            _ = running.finish(timeout: 10)
            #expect(eventually(5) { survivors(marker).isEmpty }, "round \(round): \(survivors(marker))")
        }
    }

    /// Processes whose command line holds `marker`.
    func survivors(_ marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            guard text.contains(marker), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] != "Z"
            else { return nil }
            return pid
        }
    }
}
