import Foundation
import Testing

/// Runs a tool to its end: its exit status and what it wrote (stdout and stderr).
func runTool(_ path: String, _ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String) {
    let tool = Process()
    tool.executableURL = URL(fileURLWithPath: path)
    tool.arguments = arguments
    tool.currentDirectoryURL = directory
    let output = Pipe()
    tool.standardOutput = output
    tool.standardError = output
    try tool.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    tool.waitUntilExit()
    return (tool.terminationStatus, text)
}

/// A file of Sources/MoatCLI/Probes.
func probe(_ file: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/MoatCLI/Probes/\(file)").standardized.path
}

/// The C programs `moat syscalls --verify` and `moat bench` build inside
/// their sandboxes are real files embedded at build time: a compiler sees
/// them here, without root or a sandbox, before a run needs them.
@Suite struct ProbeSourceTests {
    @Test(arguments: ["verify.c", "bench.c"])
    func probeSourcesCompile(file: String) throws {
        let gcc = try #require(
            ["/usr/bin/gcc", "/usr/local/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "gcc is installed by scripts/bootstrap")
        let compiled = try runTool(gcc, ["-fsyntax-only", "-Werror=implicit-function-declaration", probe(file)])
        #expect(compiled.status == 0, "\(compiled.output)")
    }

    @Test func workloadScriptParses() throws {
        let parsed = try runTool("/bin/bash", ["-n", probe("workloads.sh")])
        #expect(parsed.status == 0, "\(parsed.output)")
    }
}
