import Arguments
import Glibc
import OCI
import Platform
import Sentry

/// `moat create`: leaves a supervisor holding the set-up, stopped workload
/// (ptrace needs the tracer alive) and exits once the container is created.
enum Create: Subcommand {
    static let spec = CommandSpec(
        name: "create",
        abstract: "Create a container from a bundle; it runs its process on `moat start`.",
        discussion: """
            The pid written to --pid-file (and shown by `moat state`) is the supervisor's, as
            with runsc: it exits with the workload's status.
            """,
        options: [bundleOption, rootOption, pidFileOption, consoleSocket] + rootfsOptions,
        positionals: [idArgument])
    static let consoleSocket = OptionKey(
        "console-socket", value: "path", help: "With process.terminal: where to send the pty master (runc's protocol).")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let bundle = try loadBundle(arguments[bundleOption])
        var options = try createOptions(arguments)
        // As runc: a detached container's terminal must go to a console socket.
        switch (bundle.spec.process.terminal, arguments[consoleSocket]) {
        case (true, nil): throw Failure("process.terminal needs --console-socket with create")
        case (false, .some): throw Failure("--console-socket needs process.terminal: true")
        case (true, let socket?): options.consoleSocket = socket
        case (false, nil): break
        }
        let (sandbox, state) = try createContainer(arguments, bundle: bundle, options: options)
        return try superviseDetached(arguments, sandbox, bundle: bundle, state: state, startAtOnce: false, keeping: [])
    }
}

/// Forks the detached supervisor of `create` and `run -d` and returns once
/// the container is created (or running, with `startAtOnce`); --pid-file
/// gets the supervisor's pid. `keeping`: more fds the supervisor keeps.
func superviseDetached(
    _ arguments: ParsedArguments, _ sandbox: SandboxSpec, bundle: Bundle, state: ContainerState, startAtOnce: Bool, keeping: [Int32]
) throws -> Int32 {
    let preserved = Array(3..<(3 + sandbox.child.preservedFDs))
    let outcome: SupervisorProcess.Outcome
    do {
        outcome = try SupervisorProcess.fork(keeping: [state.lockDescriptor] + preserved + keeping) { signalReady in
            exit(
                Supervision.superviseDetached(
                    sandbox, bundle: bundle, state: state, startAtOnce: startAtOnce,
                    launcher: { sandboxLauncher(sandbox, program: bundle.spec.process.args[0], control: $0) }, signalReady: signalReady,
                    report: { report($0) }))
        }
    } catch {
        state.remove()
        throw Failure("cannot start the supervisor: \(error)")
    }
    switch outcome {
    case .failed(let code):
        // The supervisor has said why on stderr and removed the state.
        return code
    case .ready(let supervisor):
        if let pidFile = arguments[pidFileOption] { try writePidFile(pidFile, supervisor) }
        return 0
    }
}

let bundleOption = OptionKey("bundle", short: "b", value: "dir", default: ".", help: "Bundle directory (config.json and the rootfs).")
let pidFileOption = OptionKey("pid-file", value: "file", help: "Write the supervisor's pid here.")

/// Options `create` and `run` share with runc's: how the root is entered and
/// which extra fds the workload gets.
let rootfsOptions: [any DeclaredOption] = [noPivotOption, preserveFDsOption, overlayOption, metadataOption, filesOption]
let noPivotOption = OptionKey(flag: "no-pivot", help: "Move the root over / and chroot instead of pivot_root (for initramfs roots).")
let preserveFDsOption = OptionKey("preserve-fds", value: "n", help: "Pass fds 3 to 3+n-1 on to the workload.")
let overlayOption = OptionKey(
    "overlay", optionalValue: "memory|none|dir",
    help: "Overlay the root: the bundle stays untouched, writes go to memory or to <dir>/upper (default: none).")

let metadataOption = OptionKey(
    "metadata", value: "sentry|direct",
    help: "Who resolves the paths of stat, access and readlink: the sentry (default), or the host kernel inside the sandbox's "
        + "mount namespace (faster for git, make, compilers; gives up the sentry's second check on those paths).")

let filesOption = OptionKey(
    "files", value: "sentry|direct",
    help: "Who opens and changes files by path: the sentry (default), or the host kernel inside the sandbox's mount namespace "
        + "(with --metadata=direct; for file-heavy tools; the mount namespace is then the only wall, as under runc, and /proc "
        + "shows the host's uptime and meminfo).")

/// --no-pivot, --preserve-fds, --overlay, --metadata and --files, checked.
func createOptions(_ arguments: ParsedArguments) throws -> CreateOptions {
    var options = CreateOptions()
    options.noPivot = arguments[noPivotOption]
    if let text = arguments[overlayOption] {
        // A bare --overlay means memory.
        options.overlay = try CreateOptions.overlay(text.isEmpty ? "memory" : text, from: "--overlay")
    }
    if let text = arguments[metadataOption] { options.directMetadata = try CreateOptions.direct(text, from: "--metadata") }
    if let text = arguments[filesOption] { options.directFiles = try CreateOptions.direct(text, from: "--files") }
    if let text = arguments[preserveFDsOption] {
        guard let count = Int32(text), (0...1000).contains(count) else {
            throw Failure("--preserve-fds: give a number of fds (0 to 1000), not \(text)", code: 2)
        }
        // The caller's fds: not one Moat opened itself before main.
        if let closed = (3..<(3 + count)).first(where: { fcntl($0, F_GETFD) < 0 || $0 == OwnImage.userfaultfd }) {
            throw Failure("--preserve-fds \(count): fd \(closed) is not open")
        }
        options.preservedFDs = count
    }
    return options
}

/// The container claimed under --root for its id, and its sandbox.
func createContainer(_ arguments: ParsedArguments, bundle: Bundle, options: CreateOptions) throws -> (SandboxSpec, ContainerState) {
    return try bundle.create(id: arguments.positionals[0], root: arguments[rootOption], options: options)
}

func writePidFile(_ path: String, _ pid: pid_t) throws {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Failure("--pid-file \(path): \(Errno.current)") }
    let text = "\(pid)"
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
    guard rename(temporary, path) == 0 else { throw Failure("--pid-file \(path): \(Errno.current)") }
}
