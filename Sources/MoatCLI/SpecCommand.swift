import Arguments
import Glibc
import OCI

enum SpecCommand: Subcommand {
    static let spec = CommandSpec(
        name: "spec",
        abstract: "Write a default config.json into the bundle directory.",
        options: [
            .init(long: "bundle", short: "b", value: "dir", defaultValue: ".", help: "Bundle directory."),
            .init(long: "rootless", help: "Not supported yet: Moat does not use user namespaces.")
        ])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        if arguments.flag("rootless") {
            throw Failure("spec --rootless: rootless containers (user namespaces) are not supported yet", code: 1)
        }
        let path = arguments.string("bundle") + "/config.json"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let text = DefaultSpec.json().rendered() + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        return 0
    }
}
