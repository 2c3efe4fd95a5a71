import Arguments
import Glibc
import OCI
import Platform

enum List: Subcommand {
    static let spec = CommandSpec(
        name: "list", abstract: "List containers.",
        options: [rootOption, formatOption, quiet])
    static let quiet = OptionKey(flag: "quiet", short: "q", help: "Only the ids.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let all = ContainerInfo.all(root: arguments[rootOption])
        if arguments[quiet] {
            writeOut(all.map { $0.id + "\n" }.joined())
            return 0
        }
        switch arguments[formatOption] {
        case "json":
            writeOut(JSON.array(all.map(\.specState)).rendered() + "\n")
        case "table":
            var out = "ID\tPID\tSTATUS\tBUNDLE\n"
            for c in all { out += "\(c.id)\t\(c.status == .stopped ? 0 : c.pid ?? 0)\t\(c.status)\t\(c.bundle)\n" }
            writeOut(out)
        default:
            throw Failure("--format: use table or json", code: 2)
        }
        return 0
    }
}
