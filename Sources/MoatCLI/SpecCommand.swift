import Glibc
import OCI

enum SpecCommand: Subcommand {
    static let spec = CommandSpec(
        name: "spec",
        abstract: "Write a default config.json into the bundle directory.",
        options: [.init(long: "bundle", short: "b", value: "dir", defaultValue: ".", help: "Bundle directory.")])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let path = arguments.value("bundle")! + "/config.json"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let text = DefaultSpec.json().rendered() + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        return 0
    }
}
