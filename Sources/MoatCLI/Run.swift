import ArgumentParser
import Glibc
import OCI
import Platform
import Sentry

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and start a container from a bundle, wait for it, and exit with its status.")

    @Option(name: .shortAndLong, help: "Bundle directory (config.json and the rootfs).")
    var bundle: String = "."

    @Option(help: "State directory.")
    var root: String = "/run/moat"

    @Option(name: .customLong("syscall-report"), help: "Write trapped-syscall counts for this run as JSON.")
    var syscallReport: String?

    @Argument(help: "Container id.")
    var id: String

    func run() throws {
        FastRun(bundle: bundle, root: root, syscallReport: syscallReport, id: id).execute()
    }
}

/// `moat run`'s work, and a parser for its common argument forms that does
/// not need ArgumentParser (see Main). Unknown forms return nil so that
/// ArgumentParser parses them, and reports errors and --help, as always.
struct FastRun {
    var bundle = "."
    var root = "/run/moat"
    var syscallReport: String?
    var id = ""

    init(bundle: String, root: String, syscallReport: String?, id: String) {
        self.bundle = bundle
        self.root = root
        self.syscallReport = syscallReport
        self.id = id
    }

    init?(_ argv: [String]) {
        guard argv.count >= 3, argv[1] == "run" else { return nil }
        var rest = argv[2...]
        var positional: [String] = []
        while let token = rest.popFirst() {
            var name = token, value: String?
            if token.hasPrefix("--"), let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                value = String(token[token.index(after: equals)...])
            }
            switch name {
            case "--bundle", "-b", "--root", "--syscall-report":
                guard let v = value ?? rest.popFirst() else { return nil }
                if name == "--root" { root = v } else if name == "--syscall-report" { syscallReport = v } else { bundle = v }
            default:
                guard !token.hasPrefix("-") else { return nil }
                positional.append(token)
            }
        }
        guard positional.count == 1 else { return nil }
        id = positional[0]
    }

    func execute() -> Never {
        Run.exitOnFailure {
            let bundle = try loadBundle(bundle)
            var sandbox = try bundle.sandbox()
            let state = try ContainerState.claim(root: root, id: id, bundle: bundle.directory)
            defer { state.remove() }
            sandbox.filterCacheDirectory = root
            return try runSandbox(sandbox, program: bundle.spec.process.args[0], report: syscallReport) { pid in
                state.running(pid: pid)
            }
        }
    }
}

func loadBundle(_ directory: String) throws -> Bundle {
    do { return try Bundle(directory: directory) } catch { throw Failure("\(error)") }
}

/// Runs a sandbox to completion on this thread and returns the exit code.
func runSandbox(_ sandbox: SandboxSpec, program: String, report path: String?,
                started: (HostTid) -> Void = { _ in }) throws -> Int32 {
    let kernel = Kernel(sandbox)
    let status: ExitStatus
    do {
        status = try kernel.run { pid in
            SignalForwarding.forward(to: pid)
            started(pid)
        }
    } catch {
        throw Failure("cannot start the sandbox: \(error)")
    }
    if let path { try SyscallReport.write(kernel, to: path) }
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
    case .devices: return "/dev: \(failure.errno)"
    case .mask:
        let paths = child.maskedPaths + child.readonlyPaths
        let path = paths.indices.contains(failure.index) ? paths[failure.index] : "?"
        return "linux.maskedPaths/readonlyPaths \(path): \(failure.errno)"
    case .seccomp: return "loading the seccomp filter: \(failure.errno)"
    case .sync: return "supervisor went away before start: \(failure.errno)"
    }
}
