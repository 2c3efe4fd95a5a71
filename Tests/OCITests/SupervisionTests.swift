import Foundation
import Glibc
import Testing

@testable import OCI

/// The container lifecycle the detached supervisor drives (create, start,
/// the hooks, the exit), run with a fake launcher: no root, no namespaces,
/// no processes but the hooks themselves, milliseconds.
@Suite struct SupervisionTests {
    /// What happened, in order: the fake workload's steps and the hooks'.
    final class Log: @unchecked Sendable {
        var lines: [String] = []
    }

    struct FakeLauncher: SandboxLauncher {
        let log: Log
        var exitCode: Int32 = 3
        var failure: LaunchFailure?

        func run(whileCreating: ((pid_t) -> Bool)?, beforeStart: (pid_t) -> Bool, afterStart: (pid_t) -> Void) throws(LaunchFailure)
            -> Int32
        {
            if let failure { throw failure }
            log.lines.append("workload set up")
            if let whileCreating, !whileCreating(4242) {
                log.lines.append("workload killed while creating")
                return 137
            }
            guard beforeStart(4242) else {
                log.lines.append("workload killed before its program")
                return 137
            }
            log.lines.append("workload runs")
            afterStart(4242)
            log.lines.append("workload exits \(exitCode)")
            return exitCode
        }
    }

    /// A scratch state root, a claimed container and a file the hooks append "kind status" to.
    struct Setup {
        let root: String
        let state: ContainerState
        let hookLog: String

        init() throws {
            root = NSTemporaryDirectory() + "moat-supervision-\(UUID().uuidString.prefix(8))"
            state = try ContainerState.claim(root: root, id: "box", bundle: "/nonexistent")
            hookLog = root + "/hooks.log"
        }

        /// A hook that appends its kind and the status it was given on stdin.
        func hook(_ kind: String, exit code: Int = 0) -> Hooks.Hook {
            Hooks.Hook(
                path: "/bin/sh",
                args: ["sh", "-c", "echo \(kind) $(sed -n 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/p') >> \(hookLog); exit \(code)"],
                env: [], timeout: 10)
        }

        var hookLines: [String] {
            ((try? String(contentsOfFile: hookLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        var record: StateRecord? {
            FileManager.default.contents(atPath: state.directory + "/state.json").flatMap { try? StateRecord.decode(Array($0)) }
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func createThenStartRunsTheHooksInOrderAndLeavesTheContainerStopped() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let log = Log()
        var hooks = Hooks()
        hooks.prestart = [setup.hook("prestart")]
        hooks.createRuntime = [setup.hook("createRuntime")]
        hooks.poststart = [setup.hook("poststart")]
        var statusWhileWaiting: String?
        var readyCount = 0
        var reports: [String] = []
        let code = Supervision.supervise(
            FakeLauncher(log: log), hooks: hooks, state: setup.state, startAtOnce: false,
            awaitStart: { pid in
                statusWhileWaiting = setup.record?.status
                log.lines.append("start requested for \(pid)")
                return true
            }, signalReady: { readyCount += 1 }, report: { reports.append($0) })
        #expect(code == 3 && reports.isEmpty, "\(reports)")
        #expect(readyCount == 1)
        #expect(setup.hookLines == ["prestart creating", "createRuntime creating", "poststart running"])
        #expect(log.lines == ["workload set up", "start requested for 4242", "workload runs", "workload exits 3"])
        // `create` returned (ready) once state.json said created, with our pid as the container's.
        #expect(statusWhileWaiting == "created")
        #expect(setup.record?.status == "stopped" && setup.record?.exitCode == 3 && setup.record?.pid == getpid())
    }

    @Test func aFailedCreateLeavesNothingBehind() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let log = Log()
        var hooks = Hooks()
        hooks.createRuntime = [setup.hook("createRuntime", exit: 1)]
        hooks.poststart = [setup.hook("poststart")]
        var ready = false
        var reports: [String] = []
        let code = Supervision.supervise(
            FakeLauncher(log: log), hooks: hooks, state: setup.state, startAtOnce: false, awaitStart: { _ in true },
            signalReady: { ready = true }, report: { reports.append($0) })
        #expect(code == 125 && !ready)
        #expect(reports == ["hooks.createRuntime[0] /bin/sh: exited with 1"], "\(reports)")
        #expect(log.lines == ["workload set up", "workload killed while creating"])
        #expect(setup.hookLines == ["createRuntime creating"])
        #expect(!FileManager.default.fileExists(atPath: setup.state.directory), "the state directory is gone")
    }

    @Test func aLaunchThatFailsIsReportedWithItsCodeAndRemoved() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        var reports: [String] = []
        let code = Supervision.supervise(
            FakeLauncher(log: Log(), failure: LaunchFailure("cannot start the sandbox: no pid namespace", code: 126)),
            hooks: Hooks(), state: setup.state, startAtOnce: false, awaitStart: { _ in true }, signalReady: {},
            report: { reports.append($0) })
        #expect(code == 126 && reports == ["cannot start the sandbox: no pid namespace"])
        #expect(!FileManager.default.fileExists(atPath: setup.state.directory))
    }

    /// Deleted before it was started: its program never runs, no start hook
    /// either, and the container stays (stopped) for delete to remove.
    @Test func aStartThatNeverComesKillsTheWorkloadBeforeItsProgram() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let log = Log()
        var hooks = Hooks()
        hooks.poststart = [setup.hook("poststart")]
        let code = Supervision.supervise(
            FakeLauncher(log: log), hooks: hooks, state: setup.state, startAtOnce: false, awaitStart: { _ in false },
            signalReady: {}, report: { _ in })
        #expect(code == 137)
        #expect(log.lines == ["workload set up", "workload killed before its program"])
        #expect(setup.hookLines.isEmpty)
        #expect(setup.record?.status == "stopped" && setup.record?.exitCode == 137)
    }

    /// run -d: no created state and no waiting; a poststart failure is
    /// reported and the workload's own exit code stands.
    @Test func runDetachedStartsAtOnceAndPoststartFailuresAreWarnings() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let log = Log()
        var hooks = Hooks()
        hooks.poststart = [setup.hook("poststart", exit: 2)]
        var awaited = false
        var reports: [String] = []
        let code = Supervision.supervise(
            FakeLauncher(log: log, exitCode: 0), hooks: hooks, state: setup.state, startAtOnce: true,
            awaitStart: { _ in
                awaited = true
                return true
            }, signalReady: {}, report: { reports.append($0) })
        #expect(code == 0 && !awaited)
        #expect(reports == ["hooks.poststart[0] /bin/sh: exited with 2"], "\(reports)")
        #expect(setup.hookLines == ["poststart running"])
        #expect(setup.record?.status == "stopped" && setup.record?.exitCode == 0)
    }

    // `moat run` in the foreground: this process supervises, nothing waits for start.

    @Test func runAttachedRunsEveryHookInOrderThenPoststopAndRemovesTheContainer() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let log = Log()
        var hooks = Hooks()
        // (startContainer hooks join the workload's namespaces: a fake has none.)
        hooks.createRuntime = [setup.hook("createRuntime")]
        hooks.poststart = [setup.hook("poststart")]
        hooks.poststop = [setup.hook("poststop")]
        var reports: [String] = []
        let code = try Supervision.runAttached(
            FakeLauncher(log: log, exitCode: 7), hooks: hooks, state: setup.state, keep: false,
            prepare: { pid in log.lines.append("relay for \(pid)") }, exited: { log.lines.append("relay drained") },
            report: { reports.append($0) })
        #expect(code == 7 && reports.isEmpty, "\(reports)")
        #expect(log.lines == ["workload set up", "relay for 4242", "workload runs", "workload exits 7", "relay drained"])
        #expect(setup.hookLines == ["createRuntime creating", "poststart running", "poststop stopped"])
        #expect(!FileManager.default.fileExists(atPath: setup.state.directory), "removed after poststop")
    }

    @Test func runAttachedWithKeepLeavesTheContainerStoppedWithoutPoststop() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        var hooks = Hooks()
        hooks.poststop = [setup.hook("poststop")]
        let code = try Supervision.runAttached(FakeLauncher(log: Log(), exitCode: 0), hooks: hooks, state: setup.state, keep: true, report: { _ in })
        #expect(code == 0 && setup.hookLines.isEmpty, "poststop waits for delete")
        #expect(setup.record?.status == "stopped" && setup.record?.exitCode == 0 && setup.record?.pid == getpid())
    }

    /// The terminal relay could not start: the program never runs, the start
    /// hooks neither, and `moat run` exits 125 with the reason.
    @Test func runAttachedWhosePrepareFailsNeverStartsTheProgram() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let log = Log()
        var hooks = Hooks()
        hooks.poststart = [setup.hook("poststart")]
        hooks.poststop = [setup.hook("poststop", exit: 1)]
        var reports: [String] = []
        let code = try Supervision.runAttached(
            FakeLauncher(log: log), hooks: hooks, state: setup.state, keep: false,
            prepare: { _ in throw ConfigError("process.terminal: the workload's pty did not arrive") }, report: { reports.append($0) })
        #expect(code == 125)
        #expect(log.lines == ["workload set up", "workload killed before its program"])
        #expect(setup.hookLines == ["poststop stopped"])
        #expect(
            reports == ["process.terminal: the workload's pty did not arrive", "hooks.poststop[0] /bin/sh: exited with 1"], "\(reports)")
        #expect(!FileManager.default.fileExists(atPath: setup.state.directory))
    }

    @Test func runAttachedWhoseLaunchFailsRemovesTheContainerAndThrows() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        var drained = false
        #expect(throws: LaunchFailure.self) {
            try Supervision.runAttached(
                FakeLauncher(log: Log(), failure: LaunchFailure("cannot start the sandbox: EPERM")), hooks: Hooks(), state: setup.state,
                keep: true, exited: { drained = true }, report: { _ in })
        }
        #expect(drained && !FileManager.default.fileExists(atPath: setup.state.directory))
    }
}
