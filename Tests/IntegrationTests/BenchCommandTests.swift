import Foundation
import Testing

/// `moat bench` runs anywhere in one command: its own bundle, a table, JSON with
/// every sample, an SVG chart. (What it measures is not asserted: that is
/// for the bench itself, not for tests.)
@Suite struct BenchCommandTests {
    let fixture = Fixture.shared

    @Test func benchProducesTableJSONAndChart() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let dir = fixture.scratch("bench")
        let json = dir.appendingPathComponent("bench.json").path, svg = dir.appendingPathComponent("bench.svg").path
        let result = Command.run(fixture.moat, ["bench", "--runs", "2", "--warmup", "0", "--density", "2",
                                                "--against", "native,nosuchruntime", "--json", json, "--svg", svg])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("nosuchruntime is not installed, skipped"))
        for row in ["native", "moat"] { #expect(result.lines.contains { $0.hasPrefix(row + " ") }, "\(row): \(result.stdout)") }
        #expect(result.stdout.contains("getpid (trapped)") && result.stdout.contains("fork+wait"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let boot = try #require(report["bootMs"] as? [String: [String: Any]])
        #expect((boot["moat"]?["samples"] as? [Double])?.count == 2 && (boot["native"]?["samples"] as? [Double])?.count == 2)
        let memory = try #require(report["memoryKiB"] as? [String: [String: Any]])
        #expect(((memory["moat"]?["pss"] as? [String: Any])?["median"] as? Double ?? 0) > 0)
        #expect((report["syscallNs"] as? [String: Any])?["moat getpid"] != nil)
        #expect((report["machine"] as? [String: String])?["kernel"] != nil)
        let hot = report["sentryHotPathsNs"] as? [String: Double] ?? [:]
        #expect(hot.count == 4 && hot.values.allSatisfy { $0 > 0 }, "\(hot)")
        #expect(result.stdout.contains("sentry hot paths"))
        let chart = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("moat"))
        let bad = Command.run(fixture.moat, ["bench", "--runs", "0"])
        #expect(bad.status == 2)
    }
}
