import Foundation
import Testing

/// Debian's python3, unchanged, in a bundle made by scripts/make-debian-bundle
/// (scripts/test makes it at bundles/debian).
@Suite struct DebianTests {
    let fixture = Fixture.shared
    static let bundle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("bundles/debian")
    var rootfs: String { DebianTests.bundle.appendingPathComponent("rootfs").path }

    func requireBundle() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        try #require(
            FileManager.default.fileExists(atPath: DebianTests.bundle.appendingPathComponent(".complete").path),
            "no Debian bundle: run scripts/make-debian-bundle bundles/debian (scripts/test does)")
    }

    func python(_ code: String, extra: [String] = []) -> Command.Result {
        Command.run(fixture.moat, ["do", "--rootfs", rootfs] + extra + ["--", "python3", "-c", code])
    }

    @Test func python3RunsUnchanged() throws {
        try requireBundle()
        let result = python(
            """
            import os, subprocess, threading, socket, time
            print("pid", os.getpid(), "entries", "usr" in os.listdir("/"))
            print(subprocess.run(["python3", "-c", "print(6 * 7)"], capture_output=True, text=True).stdout.strip())
            a, b = socket.socketpair(); a.sendall(b"ping"); print(b.recv(4).decode())
            done = []; t = threading.Thread(target=done.append, args=("thread",)); t.start(); t.join(); print(done[0])
            # A timed wait: an absolute deadline on the sandbox's monotonic clock.
            c = threading.Condition(); start = time.monotonic()
            with c: c.wait(timeout=0.2)
            print("waited", 0.19 <= time.monotonic() - start < 2, "clock", time.monotonic() < 60)
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines == ["pid 1 entries True", "42", "ping", "thread", "waited True clock True"], "\(result.stdout)")
    }

    /// --strace of python3 listing "/": the call that opens it, the directory
    /// read, the exit; readable as strace prints them.
    @Test func straceOfPython3() throws {
        try requireBundle()
        let result = python("import os; os.listdir('/')", extra: ["--strace"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.contains("execve(\"/usr/bin/python3\", [\"python3\", \"-c\", \"import os; os.listdir('/')\"], ") && $0.hasSuffix(") = 0")
            },
            "\(lines.prefix(10))")
        #expect(
            lines.contains {
                $0.contains("openat(AT_FDCWD, \"/usr/lib/python3.11/os.py\", O_RDONLY|O_CLOEXEC") || $0.contains("/usr/lib/python3.11/")
            })
        let opened = lines.first { $0.contains("openat(AT_FDCWD, \"/\", O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC, 00) = ") }
        let fd = opened.flatMap { Int($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) }
        #expect(fd != nil, "\(lines.suffix(20))")
        if let fd { #expect(lines.contains { $0.contains("getdents64(\(fd), 0x") }) }
        #expect(lines.last?.hasSuffix("exit_group(0) = ?") == true, "\(lines.last ?? "")")
    }

    /// A few of CPython's own regression modules (scripts/cpython-conformance runs more, against native).
    @Test(arguments: ["test_select", "test_fcntl", "test_time", "test_fileio", "test_stat", "test_tempfile", "test_shutil", "test_pathlib"])
    func cpythonRegressionModulesPass(module: String) throws {
        try requireBundle()
        let result = Command.run(
            fixture.moat,
            [
                "do", "--rootfs", rootfs, "--writable", "--cwd", "/tmp", "--",
                "python3", "-m", "test", module
            ], timeout: 300)
        #expect(result.status == 0, "\(module): \(result.stdout.suffix(800)) \(result.stderr.suffix(400))")
    }
}
