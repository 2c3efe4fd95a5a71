import Arguments
import Glibc
import OCI
import Platform

/// pause and resume: every task of the container is put in group-stop
/// (SIGSTOP, which the init cannot ignore from outside) and continued.
enum Pause: Subcommand {
    static let spec = CommandSpec(
        name: "pause", abstract: "Stop every process of a running container.",
        options: [rootOption], positionals: [idArgument])
    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        do { try container(arguments).pause(root: arguments[rootOption]) } catch let error as ConfigError {
            throw Failure("\(error)", code: 1)
        }
        return 0
    }
}

enum Resume: Subcommand {
    static let spec = CommandSpec(
        name: "resume", abstract: "Continue a paused container.",
        options: [rootOption], positionals: [idArgument])
    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        do { try container(arguments).resume(root: arguments[rootOption]) } catch let error as ConfigError {
            throw Failure("\(error)", code: 1)
        }
        return 0
    }
}
