import Arguments
import Glibc
import OCI
import Platform

enum Start: Subcommand {
    static let spec = CommandSpec(
        name: "start", abstract: "Run a created container's process.",
        options: [rootOption], positionals: [idArgument])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        guard info.status.mayStart else { throw Failure("container \(info.id) is \(info.status), not created", code: 1) }
        do { try ControlSocket.requestStart(directory: info.directory) } catch { throw Failure("\(error)", code: 1) }
        return 0
    }
}
