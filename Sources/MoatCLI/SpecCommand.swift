import ArgumentParser
import Glibc
import OCI

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec", abstract: "Write a default config.json into the bundle directory.")

    @Option(name: .shortAndLong, help: "Bundle directory.")
    var bundle: String = "."

    func run() throws {
        exitOnFailure {
            let path = bundle + "/config.json"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let text = DefaultSpec.json().rendered() + "\n"
            _ = text.withCString { write(fd, $0, strlen($0)) }
            return 0
        }
    }
}
