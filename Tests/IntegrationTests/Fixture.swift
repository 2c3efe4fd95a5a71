import Foundation
import Testing

/// What every integration test shares: the built `moat`, a busybox rootfs
/// with the C probes compiled into it (gcc -static; vdsocalls also with
/// musl) and the Go probe (CGO_ENABLED=0), built once per run.
final class Fixture: Sendable {
    static let shared = Fixture()

    let packageRoot: URL
    let moat: String
    let work: URL
    let rootfs: String
    let setupError: String?

    private init() {
        packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        moat =
            ProcessInfo.processInfo.environment["MOAT_BIN"]
            ?? packageRoot.appendingPathComponent(".build/debug/moat").path
        let temporary = URL(fileURLWithPath: NSTemporaryDirectory())
        Fixture.removeLeftovers(in: temporary)
        work = temporary.appendingPathComponent("moat-tests-\(getpid())")
        rootfs = work.appendingPathComponent("bundle/rootfs").path
        setupError = Fixture.prepare(packageRoot: packageRoot, moat: moat, work: work)
    }

    /// Removes the scratch of earlier runs whose process is gone: nothing
    /// ends a test process in a way that could clean up (each run left ~180 MB,
    /// 74 GB over a day of sessions, until the disk was full).
    static func removeLeftovers(in parent: URL) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix("moat-tests-") {
            guard let pid = Int32(name.dropFirst("moat-tests-".count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }

    private static func prepare(packageRoot: URL, moat: String, work: URL) -> String? {
        guard FileManager.default.isExecutableFile(atPath: moat) else {
            return "\(moat) is not built (run swift build first, or set MOAT_BIN)"
        }
        try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let bundle = work.appendingPathComponent("bundle").path
        let script = packageRoot.appendingPathComponent("scripts/make-busybox-bundle").path
        let made = Command.run(script, [bundle, moat])
        guard made.status == 0 else { return "make-busybox-bundle failed: \(made.stderr)" }
        let probes = packageRoot.appendingPathComponent("Tests/IntegrationTests/Probes")
        let sources = (try? FileManager.default.contentsOfDirectory(atPath: probes.path)) ?? []
        for source in sources where source.hasSuffix(".c") {
            let output = "\(bundle)/rootfs/bin/\(source.dropLast(2))"
            let built = Command.run(
                "/usr/bin/gcc",
                [
                    "-static", "-O1", "-pthread", "-o", output,
                    probes.appendingPathComponent(source).path
                ])
            guard built.status == 0 else { return "gcc \(source): \(built.stderr)" }
        }
        // The vDSO probe again with musl, and the Go probe: runtimes that read the vDSO their own way.
        let musl = Command.run(
            "/usr/bin/musl-gcc",
            [
                "-static", "-O1", "-o", "\(bundle)/rootfs/bin/vdsocalls-musl",
                probes.appendingPathComponent("vdsocalls.c").path
            ])
        guard musl.status == 0 else { return "musl-gcc vdsocalls.c: \(musl.stderr)" }
        let go = Command.run(
            "/usr/bin/env",
            [
                "CGO_ENABLED=0", "GOCACHE=\(packageRoot.path)/.build/go-cache",
                "GOFLAGS=-buildvcs=false", "/usr/bin/go", "build", "-o",
                "\(bundle)/rootfs/bin/goprobe", probes.appendingPathComponent("goprobe.go").path
            ])
        guard go.status == 0 else { return "go build goprobe.go: \(go.stderr)" }
        return nil
    }

    /// Bash that closes every fd beyond stdio. Foundation's Process leaks the
    /// test's pipes into children, and daemons (containerd, conmon) would
    /// hold them for their whole life.
    static let closeInheritedFDs =
        "for fd in /proc/self/fd/*; do n=${fd##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\" 2>/dev/null; done"

    /// What vfsescape tries to reach from a sandbox: a directory outside the
    /// rootfs holding "secret" ("host secret") and an executable "evil".
    func escapeMarker(_ name: String) throws -> (directory: URL, marker: URL) {
        let directory = scratch(name)
        let marker = directory.appendingPathComponent("secret")
        try "host secret".write(to: marker, atomically: true, encoding: .utf8)
        let evil = directory.appendingPathComponent("evil")
        try "#!/bin/sh\nexit 42\n".write(to: evil, atomically: true, encoding: .utf8)
        chmod(evil.path, 0o755)
        return (directory, marker)
    }

    /// A fresh scratch directory for one test.
    func scratch(_ name: String) -> URL {
        let dir = work.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes a bundle whose config is `moat spec`'s default with `args`, over
    /// the shared rootfs, changed by `edit`.
    func bundle(_ name: String, args: [String], edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let dir = scratch(name)
        let made = Command.run(moat, ["spec", "--bundle", dir.path])
        #expect(made.status == 0, "moat spec: \(made.stderr)")
        let configURL = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = args
        config["process"] = process
        config["root"] = ["path": rootfs, "readonly": true]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: configURL)
        return dir
    }

    /// `moat run` of a bundle, waiting for it to finish.
    func run(_ bundle: URL, id: String? = nil, extra: [String] = [], timeout: Double = 60) -> Command.Result {
        let state = bundle.appendingPathComponent("state").path
        return Command.run(
            moat,
            ["run", "--root", state, "--bundle", bundle.path] + extra
                + [id ?? bundle.lastPathComponent], timeout: timeout)
    }

    /// `moat do` over the shared rootfs.
    func sandboxed(_ args: [String], extra: [String] = []) -> Command.Result {
        Command.run(moat, ["do", "--rootfs", rootfs] + extra + ["--"] + args)
    }
}

extension Dictionary where Key == String, Value == Any {
    /// Sets config.json's process.<key>.
    mutating func setProcess(_ key: String, _ value: Any) {
        var process = self["process"] as! [String: Any]
        process[key] = value
        self["process"] = process
    }
}

/// A finished process: status and what it printed.
enum Command {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }

        /// The value of "key=value" in the output (first match, up to a space).
        func value(_ key: String) -> String? {
            for line in lines {
                for part in line.split(separator: " ") where part.hasPrefix(key + "=") {
                    return String(part.dropFirst(key.count + 1))
                }
            }
            return nil
        }
    }

    static func run(_ path: String, _ args: [String], timeout: Double = 120) -> Result {
        start(path, args).finish(timeout: timeout)
    }

    /// Reads a pipe as it fills (a process writing more than a pipe holds
    /// must not block on a reader that waits for it to exit).
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            DispatchQueue.global().async {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    self.lock.lock()
                    self.data.append(chunk)
                    self.lock.unlock()
                }
                self.done.signal()
            }
        }

        /// What was read, once the writer closed its end (or after `seconds`:
        /// a daemon the process left behind may hold the pipe open).
        func collected(waiting seconds: Double) -> String {
            _ = done.wait(timeout: .now() + seconds)
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }
    }

    final class Running: @unchecked Sendable {
        let process: Process
        let out: Collector
        let err: Collector
        init(process: Process, out: Pipe, err: Pipe) {
            self.process = process
            self.out = Collector(out.fileHandleForReading)
            self.err = Collector(err.fileHandleForReading)
        }

        /// Waits for the process (killing it after `timeout` seconds) and collects its output.
        func finish(timeout: Double = 60) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return Result(
                status: process.terminationReason == .uncaughtSignal
                    ? 128 + process.terminationStatus
                    : process.terminationStatus,
                stdout: out.collected(waiting: 5), stderr: err.collected(waiting: 5))
        }
    }

    /// Starts a process in the background; `finish()` collects it.
    static func start(_ path: String, _ args: [String]) -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try! process.run()
        return Running(process: process, out: out, err: err)
    }
}

/// Waits until `condition` holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
