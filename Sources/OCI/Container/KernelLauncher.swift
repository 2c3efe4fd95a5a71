import Glibc
import Platform
import Sentry

/// Runs a container's sandbox with the sentry, on this thread: the launcher
/// `create`, `run` and `do` use. The control socket, if given, serves
/// `moat exec` while the workload runs; `finished` sees the kernel once
/// the sandbox has ended (the CLI writes --syscall-report there).
public struct KernelLauncher: SandboxLauncher {
    let sandbox: SandboxSpec
    let program: String
    let control: ControlSocket?
    let finished: ((Kernel) throws(LaunchFailure) -> Void)?
    let report: (String) -> Void

    public init(
        sandbox: SandboxSpec, program: String, control: ControlSocket? = nil,
        finished: ((Kernel) throws(LaunchFailure) -> Void)? = nil, report: @escaping (String) -> Void
    ) {
        self.sandbox = sandbox
        self.program = program
        self.control = control
        self.finished = finished
        self.report = report
    }

    public func run(whileCreating: ((pid_t) -> Bool)?, beforeStart: (pid_t) -> Bool, afterStart: (pid_t) -> Void) throws(LaunchFailure)
        -> Int32
    {
        Timing.mark("config read, state claimed")
        // Reading the config and claiming the state ran code set-up and
        // serving never run again: the peak of memory is the larger phase, not both.
        OwnImage.dropUnwrittenPages()
        if Linux.rootless, let obstacle = Rootless.obstacle() { throw LaunchFailure(obstacle) }
        let kernel = Kernel(sandbox)
        let status: ExitStatus
        do {
            status = try kernel.run(
                beforePivot: whileCreating,
                beforeStart: { pid in
                    SignalForwarding.forward(to: pid)
                    return beforeStart(pid)
                }, afterStart: afterStart,
                watch: control.map { ($0.descriptor, ExecService(control: $0, sandbox: sandbox).serveOne) })
        } catch  where Linux.rootless && [EPERM, ENOSPC, EUSERS, EACCES].contains(error.rawValue) {
            throw LaunchFailure("cannot start the sandbox: " + Rootless.explain(error))
        } catch {
            throw LaunchFailure("cannot start the sandbox: \(error)")
        }
        try finished?(kernel)
        if case .failedBeforeExec(let failure) = status {
            report(describe(failure, child: sandbox.child, program: program))
        }
        return status.code
    }
}

/// One line for a child that failed before its program started, naming the
/// piece of its configuration that failed.
public func describe(_ failure: ChildFailure, child: ChildSpec, program: String) -> String {
    switch failure.stage {
    case .exec:
        if failure.errno == .noSuchFile { return "\(program): no such file" }
        let path = child.executableCandidates.indices.contains(failure.index) ? child.executableCandidates[failure.index] : program
        return "\(path): \(failure.errno)"
    case .mount:
        let target = child.mounts.indices.contains(failure.index) ? child.mounts[failure.index].target : "?"
        return "mounts[\(failure.index)] (\(target)): \(failure.errno)"
    case .cwd: return "process.cwd \(child.cwd): \(failure.errno)"
    case .rlimit:
        return "process.rlimits[\(failure.index)]: \(failure.errno)"
    case .user: return "process.user: \(failure.errno)"
    case .capabilities: return "process.capabilities: \(failure.errno)"
    case .hostname: return "hostname: \(failure.errno)"
    case .pivot: return "root.path \(child.rootfs): \(failure.errno)"
    case .overlay: return "overlay on \(child.rootfs): \(failure.errno)"
    case .devices where failure.index >= 100:
        let index = failure.index - 100
        let path = child.devices.indices.contains(index) ? child.devices[index].path : "?"
        return "linux.devices[\(index)] \(path): \(failure.errno)"
    case .devices: return "/dev: \(failure.errno)"
    case .mask:
        let paths = child.maskedPaths + child.readonlyPaths
        let path = paths.indices.contains(failure.index) ? paths[failure.index] : "?"
        return "linux.maskedPaths/readonlyPaths \(path): \(failure.errno)"
    case .seccomp: return "loading the seccomp filter: \(failure.errno)"
    case .sync: return "supervisor went away before start: \(failure.errno)"
    case .terminal: return "process.terminal (pty or --console-socket): \(failure.errno)"
    case .namespace:
        let joined = child.joinNamespaces.indices.contains(failure.index) ? child.joinNamespaces[failure.index].path : "?"
        return "linux.namespaces path \(joined): \(failure.errno)"
    case .oomScore: return "process.oomScoreAdj \(child.oomScoreAdj ?? 0): \(failure.errno)"
    case .sysctl:
        let key = child.sysctls.indices.contains(failure.index) ? child.sysctls[failure.index].key : "?"
        return "linux.sysctl \(key): \(failure.errno)"
    }
}
