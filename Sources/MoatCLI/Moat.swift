import Glibc

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
    static var subcommands: [any Subcommand.Type] { [Run.self, SpecCommand.self, Do.self, Syscalls.self] }

    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
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

/// One line on stderr, as every error of the CLI is reported.
func report(_ message: String) {
    let line = "moat: " + message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// The exit for bad input: a one-line error and status 125, like runc.
struct Failure: Error {
    let message: String
    let code: Int32
    init(_ message: String, code: Int32 = 125) {
        self.message = message
        self.code = code
    }
}

func writeOut(_ text: String) {
    var remaining = Array(text.utf8)[...]
    while !remaining.isEmpty {
        let n = remaining.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        remaining = remaining.dropFirst(n)
    }
}
