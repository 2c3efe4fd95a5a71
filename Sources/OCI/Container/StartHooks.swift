import Glibc

/// The runtime-spec's hooks around a sandbox's start, in their order, for
/// `run` and `create` alike: createRuntime and createContainer while it is
/// being created, startContainer (then the state says running) before the
/// program, poststart after. A failure goes to `fail`; the workload must not
/// run. A poststart failure goes to `warn`: it is reported, not fatal (as runc).
public struct StartHooks {
    let hooks: Hooks
    let state: ContainerState
    let fail: (String) -> Void
    let warn: (String) -> Void

    public init(hooks: Hooks, state: ContainerState, fail: @escaping (String) -> Void, warn: @escaping (String) -> Void) {
        self.hooks = hooks
        self.state = state
        self.fail = fail
        self.warn = warn
    }

    /// For `Kernel.run`'s beforePivot; nil when there are no such hooks.
    public var whileCreating: ((pid_t) -> Bool)? {
        guard hooks.runWhileCreating else { return nil }
        return { [hooks, state, fail] pid in
            do {
                try hooks.runWhileCreating(state: state.hookState(status: .creating, initPid: pid), initPid: pid)
                return true
            } catch {
                fail("\(error)")
                return false
            }
        }
    }

    /// startContainer hooks, then the state says running (the supervisor's pid is ours).
    public func start(_ pid: pid_t) -> Bool {
        do {
            try hooks.runStartContainer(state: state.hookState(status: .created, initPid: pid), initPid: pid)
            try state.running(supervisor: getpid(), initPid: pid)
        } catch {
            fail("\(error)")
            return false
        }
        return true
    }

    /// poststart hooks.
    public func started(_ pid: pid_t) {
        do { try Hooks.run(hooks.poststart, kind: "poststart", state: state.hookState(status: .running, initPid: pid)) } catch {
            warn("\(error)")
        }
    }
}
