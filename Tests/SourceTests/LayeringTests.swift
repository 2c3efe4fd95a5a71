import Foundation
import Testing

/// The layers DESIGN.md draws, checked on the sources: only Platform
/// crosses into C (CShims), Platform knows nothing of the sentry or of
/// containers, and the Sentry nothing of OCI or the command line.
@Suite struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each Swift file of a target, with its text.
    static func sources(of target: String) throws -> [(path: String, text: String)] {
        let directory = root.appendingPathComponent("Sources/" + target)
        let files = try #require(FileManager.default.enumerator(atPath: directory.path)).compactMap { $0 as? String }
        return try files.filter { $0.hasSuffix(".swift") }.sorted().map { name in
            ("Sources/\(target)/\(name)", try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }

    static func imports(_ text: String) -> Set<String> {
        Set(
            text.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "import"), index + 1 < words.count else { return nil }
                return words[..<index].allSatisfy({ $0.hasPrefix("@") }) ? String(words[index + 1]) : nil
            })
    }

    @Test(arguments: ["Sentry", "OCI", "MoatCLI", "Arguments", "Bench"])
    func onlyPlatformCallsC(target: String) throws {
        for (path, text) in try Self.sources(of: target) {
            #expect(!Self.imports(text).contains("CShims"), "\(path) imports CShims: go through a Platform type")
            let calls = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") && $0.contains("moat_") }
            #expect(calls.isEmpty, "\(path) calls C directly: \(calls.first ?? "")")
        }
    }

    @Test func lowerLayersDoNotReachUp() throws {
        let forbidden: [String: Set<String>] = [
            "Platform": ["Sentry", "OCI", "MoatCLI", "Arguments", "Bench"],
            "Sentry": ["OCI", "MoatCLI", "Arguments", "Bench"],
            "OCI": ["MoatCLI", "Arguments", "Bench"]
        ]
        for (target, above) in forbidden {
            for (path, text) in try Self.sources(of: target) {
                let reached = Self.imports(text).intersection(above)
                #expect(reached.isEmpty, "\(path) imports \(reached.sorted())")
            }
        }
    }
}
