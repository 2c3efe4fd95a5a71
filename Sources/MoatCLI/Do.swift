import ArgumentParser
import Glibc
import OCI
import Sentry

struct Do: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one command sandboxed over a directory (or /), no bundle needed.",
        discussion: """
            The root is read-only unless --writable, with fresh /proc, /dev and /tmp; the \
            command runs as root with runc's default capabilities, in its own network \
            namespace unless --network host.
            """)

    @Option(help: "Directory to use as the root.")
    var rootfs: String = "/"

    @Flag(help: "Let the command write to the root.")
    var writable = false

    @Option(help: "none (own namespace, loopback only) or host.")
    var network: String = "none"

    @Option(help: "State directory (holds the cached seccomp program).")
    var root: String = "/run/moat"

    @Option(help: "Working directory inside the sandbox.")
    var cwd: String = "/"

    @Option(name: .customLong("syscall-report"), help: "Write trapped-syscall counts for this run as JSON.")
    var syscallReport: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws {
        exitOnFailure {
            var args = command
            if args.first == "--" { args.removeFirst() }
            guard !args.isEmpty else { throw Failure("do: name a command to run") }
            guard ["none", "host"].contains(network) else { throw Failure("--network: use none or host") }
            var json = DefaultSpec.json(args: args, rootPath: rootfs, readonly: !writable)
            json = json.replacing(path: ["process", "cwd"], with: .string(cwd))
            if network == "host" {
                let kept: [JSON] = ["pid", "ipc", "uts", "mount"].map { .object([("type", .string($0))]) }
                json = json.replacing(path: ["linux", "namespaces"], with: .array(kept))
            }
            var sandbox: SandboxSpec
            do {
                // A relative --rootfs is relative to where moat was started.
                let bundle = try Bundle(directory: currentDirectory(), spec: try Spec.decode(json))
                sandbox = try bundle.sandbox()
                try ContainerState.makeDirectories(root)
            } catch { throw Failure("\(error)") }
            sandbox.filterCacheDirectory = root
            return try runSandbox(sandbox, program: args[0], report: syscallReport)
        }
    }
}

func currentDirectory() -> String {
    guard let cwd = getcwd(nil, 0) else { return "/" }
    defer { free(cwd) }
    return String(cString: cwd)
}
