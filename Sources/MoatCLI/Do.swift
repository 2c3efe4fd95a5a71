import Arguments
import Glibc
import OCI
import Sentry

enum Do: Subcommand {
    static let spec = CommandSpec(
        name: "do",
        abstract: "Run one command sandboxed over a directory (or /), no bundle needed.",
        discussion: """
            The root is read-only unless --writable, with fresh /proc, /dev and /tmp; the
            command runs as root with runc's default capabilities, in its own network
            namespace unless --network host.
            """,
        options: [rootfs, writable, network, root, cwd, capAdd, metadataOption, filesOption] + observationOptions,
        positionals: [.init(name: "command", help: "The command and its arguments.", rest: true)])
    static let rootfs = OptionKey("rootfs", value: "dir", default: "/", help: "Directory to use as the root.")
    static let writable = OptionKey(flag: "writable", help: "Let the command write to the root.")
    static let network = OptionKey("network", value: "mode", default: "none", help: "none (own namespace, loopback only) or host.")
    static let root = OptionKey("root", value: "dir", default: defaultStateRoot, help: "State directory (holds the cached seccomp program).")
    static let cwd = OptionKey("cwd", value: "dir", default: "/", help: "Working directory inside the sandbox.")
    static let capAdd = OptionKey(
        "cap-add", value: "caps", help: "Grant these capabilities too (comma-separated, e.g. CAP_CHOWN,CAP_DAC_OVERRIDE).")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let args = arguments.positionals
        guard !args.isEmpty else { throw Failure("do: name a command to run", code: 2) }
        let network = arguments[network]
        let root = arguments[root]
        guard ["none", "host"].contains(network) else { throw Failure("--network: use none or host", code: 2) }
        var json = DefaultSpec.json(args: args, rootPath: arguments[rootfs], readonly: !arguments[writable])
        json = json.replacing(path: ["process", "cwd"], with: .string(arguments[cwd]))
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
        if let added = arguments[capAdd] {
            for name in added.split(separator: ",").map({ $0.uppercased().hasPrefix("CAP_") ? $0.uppercased() : "CAP_" + $0.uppercased() }) {
                guard let bit = Spec.capabilityNames.firstIndex(of: name) else { throw Failure("--cap-add: unknown capability \(name)", code: 2) }
                let mask = UInt64(1) << UInt64(bit)
                sandbox.child.capabilities.bounding |= mask
                sandbox.child.capabilities.effective |= mask
                sandbox.child.capabilities.permitted |= mask
            }
        }
        if let text = arguments[metadataOption] { sandbox.fileProfile.directMetadata = try CreateOptions.direct(text, from: "--metadata") }
        if let text = arguments[filesOption], try CreateOptions.direct(text, from: "--files") { sandbox.useDirectFiles() }
        sandbox.observation = try observation(arguments).observation
        return try sandboxLauncher(sandbox, program: args[0], syscallReport: arguments[syscallReportOption]).run()
    }
}

func currentDirectory() -> String {
    guard let cwd = getcwd(nil, 0) else { return "/" }
    defer { free(cwd) }
    return String(cString: cwd)
}
