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
        let root = arguments[rootOption]
        let bundle = try loadBundle(arguments[bundleOption])
        var sandbox = try bundle.sandbox()
        // As runc: a detached container's terminal must go to a console socket.
        switch (bundle.spec.process.terminal, arguments[consoleSocket]) {
        case (true, nil): throw Failure("process.terminal needs --console-socket with create")
        case (false, .some): throw Failure("--console-socket needs process.terminal: true")
        case (true, let socket?): sandbox.child.consoleSocket = socket
        case (false, nil): break
        }
        sandbox.filterCacheDirectory = root
        let preserved = try applyRootfsOptions(arguments, bundle: bundle, to: &sandbox)
        let state = try claimContainer(arguments, root: root, bundle: bundle, sandbox: &sandbox)
        let outcome: SupervisorProcess.Outcome
        do {
            outcome = try SupervisorProcess.fork(keeping: [state.lockDescriptor] + preserved) { signalReady in
                supervise(sandbox, bundle: bundle, state: state, signalReady: signalReady)
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

    /// The supervisor process: runs the sandbox, waits for `moat start`,
    /// keeps state.json current and exits with the workload's status.
    /// `startAtOnce` (run -d): no waiting for `moat start`.
    static func supervise(
        _ sandbox: SandboxSpec, bundle: Bundle, state: ContainerState, startAtOnce: Bool = false,
        signalReady: () -> Void
    ) -> Never {
        let control: ControlSocket
        do { control = try ControlSocket(directory: state.directory) } catch {
            report("\(error)")
            state.remove()
            exit(125)
        }
        let launcher = sandboxLauncher(sandbox, program: bundle.spec.process.args[0], control: control)
        let code = Supervision.supervise(
            launcher, hooks: bundle.spec.hooks, state: state, startAtOnce: startAtOnce,
            prepare: { pid in
                // With a terminal the workload has its pty (sent to the console
                // socket) and none of create's stdio: the supervisor must not
                // keep them either. containerd reads create's output to EOF
                // (docker run -t hung, holding the container's lock). Errors
                // still reach --log.
                if sandbox.child.terminal && sandbox.child.consoleSocket != nil {
                    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
                    if null >= 0 {
                        for fd: Int32 in 0...2 { dup2(null, fd) }
                        close(null)
                    }
                }
                // Engines list a container's processes by joining the mount
                // namespace of the pid they hold, ours (podman top): show them
                // the sandbox's /proc. Without it they would list the host's.
                if bundle.spec.mounts.contains(where: { $0.destination == "/proc" && $0.type == "proc" }) {
                    try? HostProcfs.showSandboxProc(initPid: pid)
                }
            }, awaitStart: { pid in control.awaitStart(whileAlive: pid) }, signalReady: signalReady, report: { report($0) })
        exit(code)
    }
}

let bundleOption = OptionKey("bundle", short: "b", value: "dir", default: ".", help: "Bundle directory (config.json and the rootfs).")
let pidFileOption = OptionKey("pid-file", value: "file", help: "Write the supervisor's pid here.")

/// Options `create` and `run` share with runc's: how the root is entered and
/// which extra fds the workload gets.
let rootfsOptions: [any DeclaredOption] = [noPivotOption, preserveFDsOption, overlayOption, metadataOption]
let noPivotOption = OptionKey(flag: "no-pivot", help: "Move the root over / and chroot instead of pivot_root (for initramfs roots).")
let preserveFDsOption = OptionKey("preserve-fds", value: "n", help: "Pass fds 3 to 3+n-1 on to the workload.")
let overlayOption = OptionKey(
    "overlay", optionalValue: "memory|none|dir",
    help: "Overlay the root: the bundle stays untouched, writes go to memory or to <dir>/upper (default: none).")

let metadataOption = OptionKey(
    "metadata", value: "sentry|direct",
    help: "Who resolves the paths of stat, access and readlink: the sentry (default), or the host kernel inside the sandbox's "
        + "mount namespace (faster for git, make, compilers; gives up the sentry's second check on those paths).")

/// The file profile from --metadata, else from the dev.moat.metadata
/// annotation. Direct metadata relies on the mount namespace pivot_root made:
/// with --no-pivot (a chroot) it is refused.
func applyFileProfile(_ arguments: ParsedArguments, annotation: String?, to sandbox: inout SandboxSpec) throws {
    let flag = arguments[metadataOption]
    guard let choice = flag ?? annotation else { return }
    let source = flag == nil ? "annotations.\(Bundle.metadataAnnotation)" : "--metadata"
    switch choice {
    case "sentry": sandbox.fileProfile.directMetadata = false
    case "direct":
        if sandbox.child.noPivot {
            throw Failure("\(source)=direct needs pivot_root's mount namespace: not with --no-pivot", code: 2)
        }
        sandbox.fileProfile.directMetadata = true
    default: throw Failure("\(source): give sentry or direct, not \(choice)", code: 2)
    }
}

/// The root overlay from --overlay, else from the bundle's dev.moat.overlay
/// annotation. Memory mode mounts its tmpfs on a directory of the container's
/// state, which only the sandbox's mount namespace sees.
func applyOverlay(
    _ arguments: ParsedArguments, bundle: Bundle, state: ContainerState,
    to sandbox: inout SandboxSpec
) throws {
    let flag = arguments[overlayOption]
    guard let choice = flag.map({ $0.isEmpty ? "memory" : $0 }) ?? bundle.spec.annotation(Bundle.overlayAnnotation) else { return }
    let source = flag == nil ? "annotations.\(Bundle.overlayAnnotation)" : "--overlay"
    switch choice {
    case "none": return
    case "memory":
        let mountPoint = state.directory + "/" + ContainerState.overlayMountPoint
        guard mkdir(mountPoint, 0o700) == 0 || errno == EEXIST else {
            throw Failure("\(source): cannot make \(mountPoint): \(Errno.current)")
        }
        sandbox.child.overlay = .memory(mountPoint: mountPoint)
    default:
        guard choice.hasPrefix("/") else { throw Failure("\(source): give memory, none or an absolute directory, not \(choice)", code: 2) }
        var info = stat()
        guard stat(choice, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw Failure("\(source): \(choice) is not a directory")
        }
        sandbox.child.overlay = .directory(choice)
    }
}

/// The container's state directory, claimed for its id, with the root
/// overlay applied; nothing is left behind if the overlay fails.
func claimContainer(_ arguments: ParsedArguments, root: String, bundle: Bundle, sandbox: inout SandboxSpec) throws
    -> ContainerState
{
    let state = try ContainerState.claim(
        root: root, id: arguments.positionals[0], bundle: bundle.directory, annotations: bundle.spec.annotations)
    do { try applyOverlay(arguments, bundle: bundle, state: state, to: &sandbox) } catch {
        state.remove()
        throw error
    }
    return state
}

/// Applies --no-pivot, then the file profile (which needs to know it), and
/// --preserve-fds; returns the preserved fds.
func applyRootfsOptions(_ arguments: ParsedArguments, bundle: Bundle, to sandbox: inout SandboxSpec) throws -> [Int32] {
    sandbox.child.noPivot = arguments[noPivotOption]
    try applyFileProfile(arguments, annotation: bundle.spec.annotation(Bundle.metadataAnnotation), to: &sandbox)
    guard let text = arguments[preserveFDsOption] else { return [] }
    guard let count = Int32(text), (0...1000).contains(count) else {
        throw Failure("--preserve-fds: give a number of fds (0 to 1000), not \(text)", code: 2)
    }
    let fds = Array(3..<(3 + count))
    if let closed = fds.first(where: { fcntl($0, F_GETFD) < 0 }) {
        throw Failure("--preserve-fds \(count): fd \(closed) is not open")
    }
    sandbox.child.preservedFDs = count
    return fds
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
