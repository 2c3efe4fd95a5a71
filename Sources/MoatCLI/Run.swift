import Arguments
import Glibc
import OCI
import Platform
import Sentry

enum Run: Subcommand {
    static let spec = CommandSpec(
        name: "run",
        abstract: "Create and start a container from a bundle, wait for it, and exit with its status.",
        options: [bundleOption, rootOption, detach, keep, pidFileOption, consoleSocket] + rootfsOptions + observationOptions,
        positionals: [idArgument])
    static let detach = OptionKey(flag: "detach", short: "d", help: "Return once the container runs; it stays until `moat delete`.")
    static let keep = OptionKey(flag: "keep", help: "Keep the stopped container (for `moat state`) until `moat delete`.")
    static let consoleSocket = OptionKey(
        "console-socket", value: "path",
        help: "With process.terminal: send the pty master here (runc's protocol) instead of using this terminal.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let bundle = try loadBundle(arguments[bundleOption])
        var options = try createOptions(arguments)
        if let socket = arguments[consoleSocket] {
            guard bundle.spec.process.terminal else { throw Failure("--console-socket needs process.terminal: true") }
            options.consoleSocket = socket
        }
        if arguments[detach] && bundle.spec.process.terminal && options.consoleSocket == nil {
            throw Failure("process.terminal with --detach needs --console-socket (as runc)")
        }
        let watching = try observation(arguments)
        var (sandbox, state) = try createContainer(arguments, bundle: bundle, options: options)
        sandbox.observation = watching.observation
        if arguments[detach] {
            return try superviseDetached(
                arguments, sandbox, bundle: bundle, state: state, startAtOnce: true, keeping: watching.logFD.map { [$0] } ?? [])
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
        if let pidFile = arguments[pidFileOption] {
            do { try writePidFile(pidFile, supervisor) } catch {
                state.remove()
                throw error
            }
        }
        // `moat exec` reaches the sandbox through the supervisor's control socket.
        let control: ControlSocket
        do { control = try ControlSocket(directory: state.directory) } catch {
            state.remove()
            throw Failure("\(error)")
        }
        let launcher = sandboxLauncher(
            sandbox, program: bundle.spec.process.args[0], control: control, syscallReport: arguments[syscallReportOption])
        return try Supervision.runAttached(
            launcher, hooks: bundle.spec.hooks, state: state, keep: arguments[keep],
            prepare: { _ in try relay?.start() }, exited: { relay?.finish() }, report: { report($0) })
    }
}

func loadBundle(_ directory: String) throws -> Bundle {
    do { return try Bundle(directory: directory) } catch { throw Failure("\(error)") }
}

/// The sentry's launcher as the CLI uses it: failures reported as `moat:`
/// lines, --syscall-report written once the sandbox has ended.
func sandboxLauncher(_ sandbox: SandboxSpec, program: String, control: ControlSocket? = nil, syscallReport path: String? = nil)
    -> KernelLauncher
{
    let countAll = sandbox.observation.all
    func writeReport(_ kernel: Kernel) throws(Failure) {
        if let path { try SyscallReport.write(kernel, to: path, countAll: countAll) }
    }
    let finished: ((Kernel) throws(Failure) -> Void)? = path == nil ? nil : writeReport
    return KernelLauncher(sandbox: sandbox, program: program, control: control, finished: finished, report: { report($0) })
}
