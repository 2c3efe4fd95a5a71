import Foundation
import Testing

/// The C programs `moat syscalls --verify` and `moat bench` build inside
/// their sandboxes are real files embedded at build time: a compiler sees
/// them here, without root or a sandbox, before a run needs them.
@Suite struct ProbeSourceTests {
    @Test(arguments: ["verify.c", "bench.c"])
    func probeSourcesCompile(file: String) throws {
        let gcc = try #require(
            ["/usr/bin/gcc", "/usr/local/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "gcc is installed by scripts/bootstrap")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/MoatCLI/Probes/\(file)").standardized.path
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: gcc)
        compiler.arguments = ["-fsyntax-only", "-Werror=implicit-function-declaration", source]
        let errors = Pipe()
        compiler.standardError = errors
        try compiler.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        compiler.waitUntilExit()
        #expect(compiler.terminationStatus == 0, "\(output)")
    }

    @Test func workloadScriptParses() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/MoatCLI/Probes/workloads.sh").standardized.path
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = ["-n", source]
        let errors = Pipe()
        bash.standardError = errors
        try bash.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        bash.waitUntilExit()
        #expect(bash.terminationStatus == 0, "\(output)")
    }
}
