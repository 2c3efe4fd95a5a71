import Arguments
import Glibc
import OCI
import Platform

enum State: Subcommand {
    static let spec = CommandSpec(
        name: "state", abstract: "Print a container's state (runtime-spec JSON).",
        options: [rootOption], positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        writeOut(try container(arguments).specState.rendered() + "\n")
        return 0
    }
}
