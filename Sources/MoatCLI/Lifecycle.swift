import Arguments
import Glibc
import OCI
import Platform

/// What the commands on an existing container share (start, state, kill,
/// delete, list, ps, pause, resume, events: one file each). Each reads the
/// container's state; only its supervisor changes it.

let rootOption = OptionKey("root", value: "dir", default: defaultStateRoot, help: "State directory.")

/// table or json, for the commands that list.
let formatOption = OptionKey("format", short: "f", value: "format", default: "table", help: "table or json.")

let idArgument = CommandSpec.Positional(name: "container-id", help: "Container id.")

func container(_ arguments: ParsedArguments, acceptCorrupt: Bool = false) throws -> ContainerInfo {
    let info: ContainerInfo
    do { info = try ContainerInfo.load(root: arguments[rootOption], id: arguments.positionals[0]) } catch { throw Failure("\(error)", code: 1) }
    if let corruption = info.corruption, !acceptCorrupt {
        throw Failure("container \(info.id): \(corruption) (moat delete --force removes it)", code: 1)
    }
    return info
}
