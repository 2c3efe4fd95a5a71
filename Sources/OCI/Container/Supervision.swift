import Glibc

/// The detached supervisor's part of the lifecycle (`create`, `run -d`): it
/// runs the sandbox, says created once the workload waits (state.json and
/// `signalReady`, which lets `create` return), waits for `start` unless
/// `startAtOnce`, runs the start hooks in their order, and when the workload
/// ends leaves the container stopped with its exit code, or, if it never got
/// as far as created, removes it: a failed create leaves nothing behind.
public enum Supervision {
    /// The exit code the supervisor exits with. `prepare` runs once the
    /// workload waits, before anything else (the CLI lets go of stdio there);
    /// `awaitStart` waits for `moat start` (false: the workload is killed);
    /// `report` gets each failure as one line.
    public static func supervise(
        _ launcher: some SandboxLauncher, hooks: Hooks, state: ContainerState, startAtOnce: Bool,
        prepare: (pid_t) -> Void = { _ in }, awaitStart: (pid_t) -> Bool, signalReady: () -> Void,
        report: @escaping (String) -> Void
    ) -> Int32 {
        var created = false
        var code: Int32
        let startHooks = StartHooks(hooks: hooks, state: state, fail: report, warn: report)
        do {
            code = try launcher.run(
                whileCreating: startHooks.whileCreating,
                beforeStart: { pid in
                    prepare(pid)
                    if !startAtOnce {
                        do { try state.created(supervisor: getpid(), initPid: pid) } catch {
                            report("\(error)")
                            return false
                        }
                    }
                    created = true
                    signalReady()
                    if !startAtOnce && !awaitStart(pid) { return false }
                    return startHooks.start(pid)
                }, afterStart: startHooks.started)
            if !created { code = 125 }  // a hook failed while creating
        } catch {
            report(error.message)
            code = error.code
        }
        // Not created: create fails and leaves nothing behind. Created: the
        // container stays, stopped, until `moat delete`.
        if created { state.stopped(exitCode: code) } else { state.remove() }
        return code
    }
}
