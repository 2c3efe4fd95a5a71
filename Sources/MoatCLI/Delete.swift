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
        var info = try container(arguments, acceptCorrupt: true)
        // A supervisor killed here cannot remove the container's cgroup: this command does.
        var cgroup: Cgroup?
        if !info.status.mayDelete {
            guard arguments.flag("force") else {
                throw Failure("container \(info.id) is \(info.status): stop it first or use --force", code: 1)
            }
            if let pid = info.pid, let path = (try? Bundle(directory: info.bundle))?.cgroupPath {
                cgroup = Cgroup(of: pid, expected: path, controllers: Cgroup.Controller.accounting)
            }
            // Killing the supervisor kills every workload task (PTRACE_O_EXITKILL).
            if let pid = info.pid { Glibc.kill(pid, SIGKILL) }
            if let initPid = info.initPid { Glibc.kill(initPid, SIGKILL) }
        }
        // A supervisor that has just written "stopped" may still be exiting.
        for _ in 0..<500 where info.supervised {
            usleep(10_000)
            info = try container(arguments, acceptCorrupt: true)
        }
        guard !info.supervised else { throw Failure("container \(info.id): its supervisor did not exit", code: 1) }
        // poststop hooks come from the bundle the container was made from.
        if let bundle = try? Bundle(directory: info.bundle) {
            runWarning(bundle.spec.hooks.poststop, "poststop", info.specState)
        }
        info.remove()
        cgroup?.removeOnceEmpty()
        return 0
    }
}
