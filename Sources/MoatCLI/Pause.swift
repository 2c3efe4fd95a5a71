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
        try signalAll(arguments, from: .running, signal: SIGSTOP, paused: true)
    }
}

enum Resume: Subcommand {
    static let spec = CommandSpec(
        name: "resume", abstract: "Continue a paused container.",
        options: [rootOption], positionals: [idArgument])
    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        try signalAll(arguments, from: .paused, signal: SIGCONT, paused: false)
    }
}

/// Signals every process of a container in state `status`, then records whether it is paused.
func signalAll(_ arguments: ParsedArguments, from status: ContainerStatus, signal: Int32, paused: Bool) throws -> Int32 {
    let info = try container(arguments)
    guard info.status == status, let initPid = info.initPid else {
        throw Failure("container \(info.id) is \(info.status), not \(status)", code: 1)
    }
    for pid in Signals.processesOfContainer(init: initPid, supervisor: info.pid) { Glibc.kill(pid, signal) }
    ContainerInfo.markPaused(root: arguments.string("root"), id: info.id, paused)
    return 0
}
