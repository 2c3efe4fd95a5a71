import Foundation
import Testing

/// The Swift sources follow `.swift-format` (the toolchain's `swift format`):
/// a change that does not is reformatted with
/// `swift format format --in-place --recursive Sources Tests Package.swift`.
@Suite struct FormatTests {
    @Test func sourcesAreFormatted() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let swift = try #require(
            ["/opt/swift/usr/bin/swift", "/usr/bin/swift", "/usr/local/bin/swift"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            }, "the Swift toolchain")
        let lint = try runTool(swift, ["format", "lint", "--strict", "--parallel", "--recursive", "Sources", "Tests", "Package.swift"], in: root)
        #expect(lint.status == 0, "\(lint.output.split(separator: "\n").prefix(20).joined(separator: "\n"))")
    }
}
