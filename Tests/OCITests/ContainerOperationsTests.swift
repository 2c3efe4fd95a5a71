import Foundation
import Glibc
import Testing

@testable import OCI

/// kill and delete on a container's state, without root: the workload is a
/// plain child process, the supervisor this test (or gone).
@Suite struct ContainerOperationsTests {
    /// A state root with a bundle (a rootfs directory and a config.json whose poststop hook appends to a log).
    struct Setup {
        let root: String
        let bundle: String
        let hookLog: String

        init() throws {
            root = NSTemporaryDirectory() + "moat-operations-\(UUID().uuidString.prefix(8))"
            bundle = root + "/bundle"
            hookLog = root + "/hooks.log"
            try FileManager.default.createDirectory(atPath: bundle + "/rootfs", withIntermediateDirectories: true)
            let hook = JSON.object([
                ("path", .string("/bin/sh")), ("args", .array([.string("sh"), .string("-c"), .string("echo poststop >> \(hookLog)")]))
            ])
            let config = DefaultSpec.json(args: ["true"], rootPath: "rootfs")
                .replacing(path: ["hooks", "poststop"], with: .array([hook]))
            try config.rendered().write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: root) }
    }

    /// A child that sleeps until signalled: the container's "init".
    static func sleeper() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["60"]
        try process.run()
        return process
    }

    @Test func killSignalsTheInitOfALiveContainerOnly() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let state = try ContainerState.claim(root: setup.root, id: "box", bundle: setup.bundle)
        let workload = try ContainerOperationsTests.sleeper()
        try state.created(supervisor: getpid(), initPid: workload.processIdentifier)
        let info = try ContainerInfo.load(root: setup.root, id: "box")
        #expect(info.status == .created && info.supervised)
        // KILL: the test runner's children may inherit TERM blocked.
        try info.kill(SIGKILL, all: false)
        workload.waitUntilExit()
        #expect(workload.terminationReason == .uncaughtSignal && workload.terminationStatus == SIGKILL)

        state.stopped(exitCode: 143)
        let stopped = try ContainerInfo.load(root: setup.root, id: "box")
        #expect(throws: ConfigError.self) { try stopped.kill(SIGTERM, all: false) }
    }

    @Test func deleteRefusesALiveContainerAndRemovesAStoppedOneWithItsPoststopHooks() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let state = try ContainerState.claim(root: setup.root, id: "box", bundle: setup.bundle)
        let workload = try ContainerOperationsTests.sleeper()
        defer { kill(workload.processIdentifier, SIGKILL) }
        try state.running(supervisor: getpid(), initPid: workload.processIdentifier)
        do {
            try ContainerInfo.delete(root: setup.root, id: "box", force: false, warn: { _ in })
            Issue.record("a running container was deleted")
        } catch {
            #expect("\(error)" == "container box is running: stop it first or use --force")
        }
        #expect(FileManager.default.fileExists(atPath: state.directory))
        // The supervisor writes stopped and exits (its lock goes with it).
        state.stopped(exitCode: 0)
        close(state.lockDescriptor)
        var warnings: [String] = []
        try ContainerInfo.delete(root: setup.root, id: "box", force: false, warn: { warnings.append($0) })
        #expect(warnings.isEmpty, "\(warnings)")
        #expect(!FileManager.default.fileExists(atPath: state.directory))
        #expect((try? String(contentsOfFile: setup.hookLog, encoding: .utf8)) == "poststop\n")
        #expect(throws: ConfigError.self) { try ContainerInfo.load(root: setup.root, id: "box") }
    }

    /// The state letter of /proc/<pid>/stat (T: stopped).
    static func processState(_ pid: pid_t) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
            return nil
        }
        return text[text.index(close, offsetBy: 2)]
    }

    @Test func pauseStopsARunningContainerAndResumeContinuesIt() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let state = try ContainerState.claim(root: setup.root, id: "box", bundle: setup.bundle)
        let workload = try ContainerOperationsTests.sleeper()
        defer { kill(workload.processIdentifier, SIGKILL) }
        try state.running(supervisor: getpid(), initPid: workload.processIdentifier)
        let pid = workload.processIdentifier
        #expect(throws: ConfigError.self) { try ContainerInfo.load(root: setup.root, id: "box").resume(root: setup.root) }
        try ContainerInfo.load(root: setup.root, id: "box").pause(root: setup.root)
        #expect(eventuallyTrue { ContainerOperationsTests.processState(pid) == "T" })
        #expect(try ContainerInfo.load(root: setup.root, id: "box").status == .paused)
        #expect(throws: ConfigError.self) { try ContainerInfo.load(root: setup.root, id: "box").pause(root: setup.root) }
        try ContainerInfo.load(root: setup.root, id: "box").resume(root: setup.root)
        #expect(eventuallyTrue { ContainerOperationsTests.processState(pid) == "S" })
        #expect(try ContainerInfo.load(root: setup.root, id: "box").status == .running)
    }

    func eventuallyTrue(_ condition: () -> Bool) -> Bool {
        for _ in 0..<200 where !condition() { usleep(10_000) }
        return condition()
    }
}
