import Arguments
import Glibc
import OCI
import Platform

enum Delete: Subcommand {
    static let spec = CommandSpec(
        name: "delete", abstract: "Remove a stopped container (or, with --force, kill it first).",
        options: [rootOption, .init(long: "force", short: "f", help: "Kill a created or running container first.")],
        positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        do {
            try ContainerInfo.delete(
                root: arguments.string("root"), id: arguments.positionals[0], force: arguments.flag("force"), warn: { report($0) })
        } catch { throw Failure("\(error)", code: 1) }
        return 0
    }
}
