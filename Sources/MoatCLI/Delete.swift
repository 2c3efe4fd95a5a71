import Arguments
import Glibc
import OCI
import Platform

enum Delete: Subcommand {
    static let spec = CommandSpec(
        name: "delete", abstract: "Remove a stopped container (or, with --force, kill it first).",
        options: [rootOption, force],
        positionals: [idArgument])
    static let force = OptionKey(flag: "force", short: "f", help: "Kill a created or running container first.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        do {
            try ContainerInfo.delete(
                root: arguments[rootOption], id: arguments.positionals[0], force: arguments[force], warn: { report($0) })
        } catch { throw Failure("\(error)", code: 1) }
        return 0
    }
}
