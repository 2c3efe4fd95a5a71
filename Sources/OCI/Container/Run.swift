import Glibc

extension Supervision {
    /// `run` without --detach: this process is the supervisor, the workload
    /// starts at once, and `moat run` exits with its status. `prepare` runs
    /// once the workload waits, before the start hooks (the CLI starts its
    /// terminal relay there; a failure is reported, the workload never runs
    /// and the code is 125). `exited` runs as soon as the workload has ended
    /// (the relay drains there, before any poststop hook). Afterwards the container stays stopped with
    /// `keep` (for `moat state`, until `moat delete`); otherwise the poststop
    /// hooks run (a failure is a warning, as runc) and it is removed. A
    /// launch that fails removes the container and throws.
    public static func runAttached(
        _ launcher: some SandboxLauncher, hooks: Hooks, state: ContainerState, keep: Bool,
        prepare: (pid_t) throws -> Void = { _ in }, exited: () -> Void = {}, report: @escaping (String) -> Void
    ) throws(LaunchFailure) -> Int32 {
        var startFailure: String?
        let startHooks = StartHooks(hooks: hooks, state: state, fail: { startFailure = $0 }, warn: report)
        var code: Int32
        do {
            code = try launcher.run(
                whileCreating: startHooks.whileCreating,
                beforeStart: { pid in
                    do { try prepare(pid) } catch {
                        startFailure = "\(error)"
                        return false
                    }
                    return startHooks.start(pid)
                }, afterStart: startHooks.started)
        } catch {
            exited()
            state.remove()
            throw error
        }
        exited()
        if let startFailure {
            report(startFailure)
            code = 125
        }
        if keep {
            state.stopped(exitCode: code)
        } else {
            do { try Hooks.run(hooks.poststop, kind: "poststop", state: state.hookState(status: .stopped, initPid: nil)) } catch {
                report("\(error)")
            }
            state.remove()
        }
        return code
    }
}
