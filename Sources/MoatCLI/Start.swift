import Arguments
import Glibc
import OCI
import Platform

enum Start: Subcommand {
    static let spec = CommandSpec(
        name: "start", abstract: "Run a created container's process.",
        options: [rootOption], positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        do { try container(arguments).start() } catch let error as ConfigError { throw Failure("\(error)", code: 1) }
        return 0
    }
}
