import Arguments
import Glibc
import OCI
import Platform

/// A `moat` subcommand: its argument declaration and its work.
protocol Subcommand {
    static var spec: CommandSpec { get }
    /// Runs with parsed arguments; returns the exit code.
    static func run(_ arguments: ParsedArguments) throws -> Int32
}

@main
enum Moat {
    static let version = "0.1.0"
    static let abstract = "An application kernel for Linux containers: runs OCI bundles under a syscall-serving sentry."
    static var subcommands: [any Subcommand.Type] {
        [
            Run.self, Create.self, Start.self, State.self, Kill.self, Delete.self, Pause.self, Resume.self, Exec.self, Update.self, List.self,
            Ps.self, Events.self, Features.self,
            SpecCommand.self, Do.self, Syscalls.self, BenchCommand.self
        ]
    }

    /// runc's global options, given before the command: --root applies to
    /// the command; --log gets the error lines too; the rest are accepted.
    static let globalSpec = CommandSpec(
        name: "", abstract: "",
        options: [
            globalRoot, log, logFormat, OptionKey(flag: "debug", help: "Accepted for runc compatibility."),
            OptionKey(flag: "systemd-cgroup", help: "Accepted: a slice:prefix:name cgroupsPath is made where systemd would put it."),
            rootless
        ])
    static let globalRoot = OptionKey("root", value: "dir", help: "State directory for the command (default /run/moat).")
    static let log = OptionKey("log", value: "file", help: "Also append errors to this file.")
    static let logFormat = OptionKey("log-format", value: "format", default: "text", help: "text or json.")
    static let rootless = OptionKey("rootless", value: "value", help: "auto, true or false: Moat is rootless exactly when run without root.")

    static func main() {
        Timing.mark("main")
        // A reader that went away (a hook that did not read its state, an exec
        // client that died) must cost a write an EPIPE, not the supervisor its
        // life. The workload's child resets every disposition before exec.
        signal(SIGPIPE, SIG_IGN)
        var args = Array(CommandLine.arguments.dropFirst())
        var globals: [String] = []
        while let first = args.first, first.hasPrefix("--"), !["--help", "--version"].contains(first) {
            globals.append(args.removeFirst())
            let takesValue = globalSpec.options.first { "--" + $0.long == first }?.value != nil
            if takesValue, !first.contains("="), !args.isEmpty { globals.append(args.removeFirst()) }
        }
        let global: ParsedArguments
        do { global = try globalSpec.parse(globals) } catch {
            usageFailure(UsageError(topLevel: "global options" + error.message.prefix { $0 != "(" }.dropLast() + " (see moat --help)"))
        }
        if let log = global[log] { ErrorLog.destination = (log, global[logFormat] == "json") }
        // Rootless mode follows the caller's uid; a value that contradicts it is an error.
        if let rootless = global[rootless], rootless != "auto" {
            guard rootless == "true" || rootless == "false" else {
                usageFailure(UsageError(topLevel: "--rootless: use auto, true or false"))
            }
            if (rootless == "true") != Linux.rootless {
                usageFailure(UsageError(topLevel: "--rootless \(rootless): Moat is rootless exactly when run without root"))
            }
        }
        if let root = global[globalRoot], args.count > 0 { args.insert(contentsOf: ["--root", root], at: 1) }
        guard let first = args.first else { usageFailure(UsageError(topLevel: "name a command (see moat --help)")) }
        switch first {
        case "--version", "version":
            writeOut("moat version \(version)\n")
            exit(0)
        case "--help", "-h", "help":
            writeOut(overview)
            exit(0)
        default:
            guard let command = subcommands.first(where: { $0.spec.name == first }) else {
                usageFailure(UsageError(topLevel: "unknown command \(first) (see moat --help)"))
            }
            execute(command, Array(args.dropFirst()))
        }
    }

    /// Parses and runs one subcommand. (Kept out of `main`: Swift 6.3.1's
    /// optimizer crashes on the closure form there.)
    static func execute(_ command: any Subcommand.Type, _ args: [String]) -> Never {
        let parsed: ParsedArguments
        do { parsed = try command.spec.parse(args) } catch { usageFailure(error) }
        do {
            exit(try command.run(parsed))
        } catch let failure as Failure {
            report(failure.message)
            exit(failure.code)
        } catch {
            report("\(error)")
            exit(125)
        }
    }

    static var overview: String {
        var out = "\(abstract)\n\nUsage: moat <command> [<options>]\n\nCommands:\n"
        for command in subcommands { out += CommandSpec.row(command.spec.name, command.spec.abstract) }
        out += "\nGlobal options (before the command, as runc takes them):\n"
        for o in globalSpec.options { out += CommandSpec.row("--\(o.long)" + (o.value.map { " <\($0)>" } ?? ""), o.help) }
        out += "\nSee moat <command> --help for a command's options; moat --version for the version.\n"
        return out
    }

    static func usageFailure(_ error: UsageError) -> Never {
        if error.isHelp {
            writeOut(error.message)
            exit(0)
        }
        report(error.message)
        exit(2)
    }
}

/// One line on stderr, as every error of the CLI is reported (and in --log).
func report(_ message: String) {
    let line = "moat: " + message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    ErrorLog.append(message)
}

/// runc's --log: conmon and containerd read a runtime's errors from it.
enum ErrorLog {
    nonisolated(unsafe) static var destination: (path: String, json: Bool)?

    static func append(_ message: String) {
        guard let (path, json) = destination else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line =
            json
            ? JSON.object([("level", .string("error")), ("msg", .string(message)), ("time", .string(Timestamp.format(Int64(now.tv_sec))))]).rendered(
                pretty: false) + "\n"
            : "moat: " + message + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}

/// The exit for bad input: a one-line error and status 125 (or the code
/// given), like runc. The same type the container lifecycle throws, so its
/// failures pass through the commands unchanged.
typealias Failure = LaunchFailure

func writeOut(_ text: String) {
    var remaining = Array(text.utf8)[...]
    while !remaining.isEmpty {
        let n = remaining.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        remaining = remaining.dropFirst(n)
    }
}
