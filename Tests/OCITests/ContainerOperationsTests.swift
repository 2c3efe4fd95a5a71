import Foundation
import Glibc
import Testing

@testable import OCI

/// kill and delete on a container's state, without root: the workload is a
/// plain child process, the supervisor this test (or gone).
@Suite struct ContainerOperationsTests {
    /// A state root with a bundle (a rootfs directory and a config.json whose
    /// poststop hook appends to a log), container "box" claimed in it, and a
    /// sleeping child to be its init.
    struct Setup {
        let root: String
        let bundle: String
        let hookLog: String
        let state: ContainerState
        let workload: Process

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
            state = try ContainerState.claim(root: root, id: "box", bundle: bundle)
            workload = Process()
            workload.executableURL = URL(fileURLWithPath: "/bin/sleep")
            workload.arguments = ["60"]
            try workload.run()
        }

        var info: ContainerInfo { get throws { try ContainerInfo.load(root: root, id: "box") } }

        func cleanUp() {
            kill(workload.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test func killSignalsTheInitOfALiveContainerOnly() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let (state, workload) = (setup.state, setup.workload)
        try state.created(supervisor: getpid(), initPid: workload.processIdentifier)
        let info = try setup.info
        #expect(info.status == .created && info.supervised)
        // KILL: the test runner's children may inherit TERM blocked.
        try info.kill(SIGKILL, all: false)
        workload.waitUntilExit()
        #expect(workload.terminationReason == .uncaughtSignal && workload.terminationStatus == SIGKILL)

        state.stopped(exitCode: 143)
        let stopped = try setup.info
        #expect(throws: ConfigError.self) { try stopped.kill(SIGTERM, all: false) }
    }

    @Test func deleteRefusesALiveContainerAndRemovesAStoppedOneWithItsPoststopHooks() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let (state, workload) = (setup.state, setup.workload)
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
        #expect(throws: ConfigError.self) { try setup.info }
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
        let (state, workload) = (setup.state, setup.workload)
        try state.running(supervisor: getpid(), initPid: workload.processIdentifier)
        let pid = workload.processIdentifier
        #expect(throws: ConfigError.self) { try setup.info.resume(root: setup.root) }
        try setup.info.pause(root: setup.root)
        #expect(eventuallyTrue { ContainerOperationsTests.processState(pid) == "T" })
        #expect(try setup.info.status == .paused)
        #expect(throws: ConfigError.self) { try setup.info.pause(root: setup.root) }
        try setup.info.resume(root: setup.root)
        #expect(eventuallyTrue { ContainerOperationsTests.processState(pid) == "S" })
        #expect(try setup.info.status == .running)
    }

    func eventuallyTrue(_ condition: () -> Bool) -> Bool {
        var tries = 0
        while !condition() {
            if tries == 200 { return false }
            usleep(10_000)
            tries += 1
        }
        return true
    }
}
