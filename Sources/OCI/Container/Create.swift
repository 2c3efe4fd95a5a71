import Glibc
import Platform
import Sentry

/// What `create` and `run` take beyond the bundle, typed (the CLI parses
/// runc's options and Moat's own into it). What is left nil the bundle's
/// annotations decide.
public struct CreateOptions: Sendable {
    /// The root overlay (--overlay, annotation dev.moat.overlay).
    public enum Overlay: Equatable, Sendable {
        /// The root as it is (--overlay=none): named so that it cannot be
        /// mistaken for Optional's .none, which leaves it to the annotation.
        case disabled
        /// Writes go to a tmpfs only the sandbox's mount namespace sees.
        case memory
        /// Writes go to <directory>/upper.
        case directory(String)
    }

    /// Move the root over / and chroot instead of pivot_root (initramfs roots).
    public var noPivot = false
    public var overlay: Overlay?
    /// Who resolves the paths of stat, access and readlink: the host kernel
    /// inside the sandbox's mount namespace (true) or the sentry (--metadata,
    /// annotation dev.moat.metadata).
    public var directMetadata: Bool?
    /// Who opens and changes files by path (with the metadata calls): the
    /// host kernel inside the sandbox's mount namespace (true) or the
    /// sentry (--files, annotation dev.moat.files).
    public var directFiles: Bool?
    /// fds 3 to 3+n-1 of the creating process go on to the workload.
    public var preservedFDs: Int32 = 0
    /// With process.terminal: where the pty master is sent (runc's protocol).
    public var consoleSocket: String?

    public init() {}

    /// --overlay's or the annotation's text: memory, none or an absolute directory.
    public static func overlay(_ text: String, from source: String) throws(LaunchFailure) -> Overlay {
        switch text {
        case "none": return .disabled
        case "memory": return .memory
        case let directory where directory.hasPrefix("/"): return .directory(directory)
        default: throw LaunchFailure("\(source): give memory, none or an absolute directory, not \(text)", code: 2)
        }
    }

    /// --metadata's, --files' or their annotations' text: sentry or direct.
    public static func direct(_ text: String, from source: String) throws(LaunchFailure) -> Bool {
        switch text {
        case "sentry": return false
        case "direct": return true
        default: throw LaunchFailure("\(source): give sentry or direct, not \(text)", code: 2)
        }
    }
}

extension Bundle {
    /// A file profile's choice: the flag's, else the annotation's, else nil.
    /// Direct needs the mount namespace pivot_root made, the only wall left.
    func profileChoice(_ flagged: Bool?, flag: String, annotation: String, noPivot: Bool) throws(LaunchFailure) -> Bool? {
        let source = flagged != nil ? flag : "annotations.\(annotation)"
        var direct = flagged
        if direct == nil, let text = spec.annotation(annotation) { direct = try CreateOptions.direct(text, from: source) }
        if direct == true && noPivot {
            throw LaunchFailure("\(source)=direct needs pivot_root's mount namespace: not with --no-pivot", code: 2)
        }
        return direct
    }

    /// The first half of `create` and `run`: the sandbox from the config with
    /// `options` applied, and the container's state directory claimed for
    /// `id` under `root` (which also caches its seccomp program). A failure
    /// leaves nothing behind.
    public func create(id: String, root: String, options: CreateOptions) throws(LaunchFailure) -> (sandbox: SandboxSpec, state: ContainerState) {
        var sandbox: SandboxSpec
        do { sandbox = try self.sandbox() } catch { throw LaunchFailure("\(error)") }
        sandbox.filterCacheDirectory = root
        sandbox.child.noPivot = options.noPivot
        sandbox.child.preservedFDs = options.preservedFDs
        if let socket = options.consoleSocket { sandbox.child.consoleSocket = socket }
        if let direct = try profileChoice(options.directMetadata, flag: "--metadata", annotation: Bundle.metadataAnnotation, noPivot: options.noPivot)
        {
            sandbox.fileProfile.directMetadata = direct
        }
        if try profileChoice(options.directFiles, flag: "--files", annotation: Bundle.filesAnnotation, noPivot: options.noPivot) == true {
            sandbox.useDirectFiles()
        }
        let overlaySource = options.overlay != nil ? "--overlay" : "annotations.\(Bundle.overlayAnnotation)"
        var overlay = options.overlay
        if overlay == nil, let text = spec.annotation(Bundle.overlayAnnotation) {
            overlay = try CreateOptions.overlay(text, from: overlaySource)
        }
        let state: ContainerState
        do { state = try ContainerState.claim(root: root, id: id, bundle: directory, annotations: spec.annotations) } catch {
            throw LaunchFailure("\(error)")
        }
        switch overlay {
        case nil, .disabled?: break
        case .memory?:
            // On a directory of the container's state, which only the sandbox's mount namespace sees.
            let mountPoint = state.directory + "/" + ContainerState.overlayMountPoint
            guard mkdir(mountPoint, 0o700) == 0 || errno == EEXIST else {
                let why = Errno.current
                state.remove()
                throw LaunchFailure("\(overlaySource): cannot make \(mountPoint): \(why)")
            }
            sandbox.child.overlay = .memory(mountPoint: mountPoint)
        case .directory(let directory)?:
            var info = stat()
            guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                state.remove()
                throw LaunchFailure("\(overlaySource): \(directory) is not a directory")
            }
            sandbox.child.overlay = .directory(directory)
        }
        return (sandbox, state)
    }
}

extension Supervision {
    /// The detached supervisor of `create` and `run -d`, in the process that
    /// stays: opens the control socket, runs the sandbox with the launcher
    /// made for it and the lifecycle of `supervise`, and returns the code to
    /// exit with.
    public static func superviseDetached<Launcher: SandboxLauncher>(
        _ sandbox: SandboxSpec, bundle: Bundle, state: ContainerState, startAtOnce: Bool,
        launcher: (ControlSocket) -> Launcher, signalReady: () -> Void, report: @escaping (String) -> Void
    ) -> Int32 {
        let control: ControlSocket
        do { control = try ControlSocket(directory: state.directory) } catch {
            report("\(error)")
            state.remove()
            return 125
        }
        return supervise(
            launcher(control), hooks: bundle.spec.hooks, state: state, startAtOnce: startAtOnce,
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
            }, awaitStart: { pid in control.awaitStart(whileAlive: pid) }, signalReady: signalReady, report: report)
    }
}
