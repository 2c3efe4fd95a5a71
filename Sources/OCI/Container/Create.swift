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

    /// --metadata's or the annotation's text: sentry or direct.
    public static func directMetadata(_ text: String, from source: String) throws(LaunchFailure) -> Bool {
        switch text {
        case "sentry": return false
        case "direct": return true
        default: throw LaunchFailure("\(source): give sentry or direct, not \(text)", code: 2)
        }
    }
}

extension Bundle {
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
        let metadataSource = options.directMetadata != nil ? "--metadata" : "annotations.\(Bundle.metadataAnnotation)"
        var direct = options.directMetadata
        if direct == nil, let text = spec.annotation(Bundle.metadataAnnotation) {
            direct = try CreateOptions.directMetadata(text, from: metadataSource)
        }
        if let direct {
            // Direct metadata relies on the mount namespace pivot_root made.
            if direct && options.noPivot {
                throw LaunchFailure("\(metadataSource)=direct needs pivot_root's mount namespace: not with --no-pivot", code: 2)
            }
            sandbox.fileProfile.directMetadata = direct
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
