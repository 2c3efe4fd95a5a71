import ArgumentParser
import Glibc

@main
enum Main {
    /// `moat run` is what container engines call for every container, so its
    /// common forms skip ArgumentParser, which costs ~1.6 ms and ~3.7 MB RSS
    /// at start-up on this machine; anything else goes through it.
    static func main() {
        if let run = FastRun(CommandLine.arguments) { run.execute() }
        Moat.main()
    }
}

struct Moat: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "moat",
        abstract: "An application kernel for Linux containers: runs OCI bundles under a syscall-serving sentry.",
        version: version,
        subcommands: [Run.self, SpecCommand.self, Do.self, Syscalls.self]
    )
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

extension ParsableCommand {
    func exitOnFailure(_ body: () throws -> Int32) -> Never { Self.exitOnFailure(body) }

    /// Runs `body`; a Failure is printed as one line and becomes the exit code.
    static func exitOnFailure(_ body: () throws -> Int32) -> Never {
        do {
            Glibc.exit(try body())
        } catch let failure as Failure {
            report(failure.message)
            Glibc.exit(failure.code)
        } catch {
            report("\(error)")
            Glibc.exit(125)
        }
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
