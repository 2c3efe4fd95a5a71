import Arguments
import Glibc
import OCI

enum SpecCommand: Subcommand {
    static let spec = CommandSpec(
        name: "spec",
        abstract: "Write a default config.json into the bundle directory.",
        options: [bundle, rootless])
    static let bundle = OptionKey("bundle", short: "b", value: "dir", default: ".", help: "Bundle directory.")
    static let rootless = OptionKey(flag: "rootless", help: "Not supported yet: Moat does not use user namespaces.")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        if arguments[rootless] {
            throw Failure("spec --rootless: rootless containers (user namespaces) are not supported yet", code: 1)
        }
        let path = arguments[bundle] + "/config.json"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let text = DefaultSpec.json().rendered() + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        return 0
    }
}
