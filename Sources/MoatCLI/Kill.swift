import Arguments
import Glibc
import OCI
import Platform

enum Kill: Subcommand {
    static let spec = CommandSpec(
        name: "kill", abstract: "Send a signal (default TERM) to a container's process.",
        discussion: """
            As in any pid namespace, the container's init only receives the signals it has
            a handler for, except KILL and STOP.
            """,
        options: [rootOption, all],
        positionals: [idArgument, .init(name: "signal", help: "Name (TERM, SIGTERM) or number.", optional: true)])
    static let all = OptionKey(flag: "all", short: "a", help: "Signal every process of the container.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        let name = arguments.positionals.count > 1 ? arguments.positionals[1] : "TERM"
        guard let signal = Signals.number(name) else { throw Failure("unknown signal \(name)", code: 1) }
        do { try info.kill(signal, all: arguments[all]) } catch { throw Failure("\(error)", code: 1) }
        return 0
    }
}
