import Arguments
import Glibc
import OCI
import Platform
import Sentry

enum Run: Subcommand {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Create and start a container from a bundle, wait for it, and exit with its status.",
        options: [
            .init(long: "bundle", short: "b", value: "dir", defaultValue: ".", help: "Bundle directory (config.json and the rootfs)."),
            .init(long: "root", value: "dir", defaultValue: defaultStateRoot, help: "State directory."),
            .init(long: "detach", short: "d", help: "Return once the container runs; it stays until `moat delete`."),
            .init(long: "keep", help: "Keep the stopped container (for `moat state`) until `moat delete`."),
            .init(long: "pid-file", value: "file", help: "Write the supervisor's pid here."),
            .init(
                long: "console-socket", value: "path",
                help: "With process.terminal: send the pty master here (runc's protocol) instead of using this terminal.")
        ] + rootfsOptions + observationOptions,
        positionals: [.init(name: "container-id", help: "Container id.")])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let root = arguments.string("root")
        let bundle = try loadBundle(arguments.string("bundle"))
        var sandbox = try bundle.sandbox()
        if let socket = arguments.value("console-socket") {
            guard bundle.spec.process.terminal else { throw Failure("--console-socket needs process.terminal: true") }
            sandbox.child.consoleSocket = socket
        }
        let preserved = try applyRootfsOptions(arguments, bundle: bundle, to: &sandbox)
        let straceLog = try applyObservation(arguments, to: &sandbox)
        let state = try claimContainer(arguments, root: root, bundle: bundle, sandbox: &sandbox)
        sandbox.filterCacheDirectory = root
        if arguments.flag("detach") && bundle.spec.process.terminal && sandbox.child.consoleSocket == nil {
            state.remove()
            throw Failure("process.terminal with --detach needs --console-socket (as runc)")
        }
        if arguments.flag("detach") {
            let outcome: SupervisorProcess.Outcome
            do {
                outcome = try SupervisorProcess.fork(keeping: [state.lockDescriptor] + preserved + (straceLog.map { [$0] } ?? [])) { signalReady in
                    Create.supervise(sandbox, bundle: bundle, state: state, startAtOnce: true, signalReady: signalReady)
                }
            } catch {
                state.remove()
                throw Failure("cannot start the supervisor: \(error)")
            }
            guard case .ready(let supervisor) = outcome else {
                if case .failed(let code) = outcome { return code }
                return 125
            }
            if let pidFile = arguments.value("pid-file") { try writePidFile(pidFile, supervisor) }
            return 0
        }
        let supervisor = getpid()
        // A terminal of the sandbox's own, relayed to this one (never this one itself).
        var relay: ConsoleRelay?
        if bundle.spec.process.terminal && sandbox.child.consoleSocket == nil {
            do { relay = try ConsoleRelay(directory: state.directory) } catch {
                state.remove()
                throw Failure("\(error)")
            }
            sandbox.child.consoleSocket = relay?.path
        }
        if let pidFile = arguments.value("pid-file") {
            do { try writePidFile(pidFile, supervisor) } catch {
                state.remove()
                throw error
            }
        }
        var code: Int32
        var startFailure: String?
        let hooks = StartHooks(hooks: bundle.spec.hooks, state: state, fail: { startFailure = $0 }, warn: { report($0) })
        // `moat exec` reaches the sandbox through the supervisor's control socket.
        let control: ControlSocket
        do { control = try ControlSocket(directory: state.directory) } catch {
            state.remove()
            throw Failure("\(error)")
        }
        do {
            code = try runSandbox(
                sandbox, program: bundle.spec.process.args[0], report: arguments.value("syscall-report"),
                control: control, whileCreating: hooks.whileCreating,
                beforeStart: { pid in
                    do { try relay?.start() } catch {
                        startFailure = "\(error)"
                        return false
                    }
                    return hooks.start(pid)
                }, afterStart: hooks.started)
        } catch {
            relay?.finish()
            relay = nil
            state.remove()
            throw error
        }
        relay?.finish()
        relay = nil
        if let startFailure {
            report(startFailure)
            code = 125
        }
        if arguments.flag("keep") {
            state.stopped(exitCode: code)
        } else {
            runWarning(bundle.spec.hooks.poststop, "poststop", state.hookState(status: .stopped, initPid: nil))
            state.remove()
        }
        return code
    }
}

/// poststart and poststop failures are reported, not fatal (as runc).
func runWarning(_ hooks: [Hooks.Hook], _ kind: String, _ state: JSON) {
    do { try Hooks.run(hooks, kind: kind, state: state) } catch { report("\(error)") }
}

func loadBundle(_ directory: String) throws -> Bundle {
    do { return try Bundle(directory: directory) } catch { throw Failure("\(error)") }
}

/// Runs a sandbox to completion on this thread and returns the exit code.
/// `beforeStart` sees the workload's init once it is set up (false kills
/// it); `afterStart` once it may run.
func runSandbox(
    _ sandbox: SandboxSpec, program: String, report path: String?, control: ControlSocket? = nil,
    whileCreating: ((HostTid) -> Bool)? = nil,
    beforeStart: (HostTid) -> Bool = { _ in true }, afterStart: (HostTid) -> Void = { _ in }
) throws -> Int32 {
    Timing.mark("config read, state claimed")
    if Linux.rootless, let obstacle = Rootless.obstacle() { throw Failure(obstacle) }
    let kernel = Kernel(sandbox)
    let status: ExitStatus
    do {
        status = try kernel.run(
            beforePivot: whileCreating,
            beforeStart: { pid in
                SignalForwarding.forward(to: pid)
                return beforeStart(pid)
            }, afterStart: afterStart,
            watch: control.map { ($0.descriptor, controlHandler($0, sandbox, program: program)) })
    } catch  where Linux.rootless && [EPERM, ENOSPC, EUSERS, EACCES].contains(error.rawValue) {
        throw Failure("cannot start the sandbox: " + Rootless.explain(error))
    } catch {
        throw Failure("cannot start the sandbox: \(error)")
    }
    if let path { try SyscallReport.write(kernel, to: path, countAll: sandbox.observation.all) }
    if case .failedBeforeExec(let failure) = status {
        report(describe(failure, sandbox: sandbox, program: program))
    }
    return status.code
}

/// One line for a child that failed before its program started.
func describe(_ failure: ChildFailure, sandbox: SandboxSpec, program: String) -> String {
    let child = sandbox.child
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
