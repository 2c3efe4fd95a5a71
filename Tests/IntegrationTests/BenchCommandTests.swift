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
        let json = dir.appendingPathComponent("bench.json").path
        let svg = dir.appendingPathComponent("bench.svg").path
        // What a killed run leaves (its process is gone) is removed by the next one.
        let gone = try #require(Int(Command.run("/bin/sh", ["-c", "echo $$"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let leftover = "/tmp/moat-bench-\(gone)-Ab12Cd"
        try FileManager.default.createDirectory(atPath: leftover + "/bundle/rootfs", withIntermediateDirectories: true)
        // One named the same way but a symlink (anyone may plant one in /tmp): neither it nor what it points to is touched.
        let target = dir.appendingPathComponent("kept").path
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        let planted = "/tmp/moat-bench-\(gone)-Zz98Yx"
        try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: target)
        defer { try? FileManager.default.removeItem(atPath: planted) }
        let result = Command.run(
            fixture.moat,
            [
                "bench", "--runs", "2", "--warmup", "0", "--density", "2",
                "--against", "native,nosuchruntime", "--json", json, "--svg", svg
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: leftover), "a dead run's scratch directory is removed")
        #expect(FileManager.default.fileExists(atPath: target + "/inside"), "a symlink's target is left alone")
        #expect(result.stderr.contains("nosuchruntime is not installed, skipped"))
        for row in ["native", "moat"] { #expect(result.lines.contains { $0.hasPrefix(row + " ") }, "\(row): \(result.stdout)") }
        #expect(result.stdout.contains("getpgid (served)") && result.stdout.contains("fork+wait"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let boot = try #require(report["bootMs"] as? [String: [String: Any]])
        #expect((boot["moat"]?["samples"] as? [Double])?.count == 2 && (boot["native"]?["samples"] as? [Double])?.count == 2)
        let memory = try #require(report["memoryKiB"] as? [String: [String: Any]])
        #expect(((memory["moat"]?["pss"] as? [String: Any])?["median"] as? Double ?? 0) > 0)
        // The peak is sampled over the sandbox's life: never below what it holds once idle.
        let peakPss = (memory["moat"]?["peakPss"] as? [String: Any])?["median"] as? Double ?? 0
        #expect(peakPss >= ((memory["moat"]?["pss"] as? [String: Any])?["median"] as? Double ?? .infinity), "\(memory)")
        #expect((report["syscallNs"] as? [String: Any])?["moat getpgid"] != nil)
        #expect((report["machine"] as? [String: String])?["kernel"] != nil)
        let hot = report["sentryHotPathsNs"] as? [String: Double] ?? [:]
        #expect(hot.count == 4 && hot.values.allSatisfy { $0 > 0 }, "\(hot)")
        #expect(result.stdout.contains("sentry hot paths"))
        let chart = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.contains("moat"))
        let bad = Command.run(fixture.moat, ["bench", "--runs", "0"])
        #expect(bad.status == 2)
    }

    /// The application mode on the Debian test bundle: python3 runs natively
    /// and in each runtime; a workload whose programs the rootfs lacks is
    /// skipped with the reason, not timed.
    @Test func workloadsRunFromADebianRootfs() throws {
        try #require(fixture.setupError == nil, "\(fixture.setupError ?? "")")
        let rootfs = DebianTests.bundle.appendingPathComponent("rootfs").path
        try #require(
            FileManager.default.fileExists(atPath: DebianTests.bundle.appendingPathComponent(".complete").path),
            "no Debian bundle: run scripts/make-debian-bundle bundles/debian (scripts/test does)")
        let dir = fixture.scratch("bench-workloads")
        let json = dir.appendingPathComponent("workloads.json").path
        let svg = dir.appendingPathComponent("workloads.svg").path
        let result = Command.run(
            fixture.moat,
            [
                "bench", "--workloads=python3-startup,git-status", "--rootfs", rootfs,
                "--against", "runc", "--runs", "2", "--warmup", "0", "--json", json, "--svg", svg
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("git-status skipped: git is not in \(rootfs)"), "\(result.stderr)")
        let row = try #require(result.lines.first { $0.hasPrefix("python3-startup ") }, "\(result.stdout)")
        #expect(row.contains("(x") && !row.contains("failed"), "\(row)")
        #expect(!result.lines.contains { $0.hasPrefix("git-status ") && $0.contains("(x") })
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let python = try #require((report["workloadMs"] as? [String: [String: [String: Any]]])?["python3-startup"], "\(report)")
        for runtime in ["native", "moat", "runc"] {
            let samples = python[runtime]?["samples"] as? [Double] ?? []
            #expect(samples.count == 2 && samples.allSatisfy { $0 > 0 }, "\(runtime): \(python)")
        }
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("python3-startup"))
        // What the sentry served in one more run: python3 opens and stats its modules.
        let served = try #require((report["servedCalls"] as? [String: [String: Int]])?["python3-startup moat"], "\(report)")
        #expect((served["openat"] ?? 0) > 100 && (served["newfstatat"] ?? 0) > 100 && served["ioctl"] == nil, "\(served)")
        #expect(result.stdout.contains("served by the sentry in one run"))

        // A relative --rootfs is the caller's, not the bundles'.
        let relative = Command.run(
            "/bin/sh",
            [
                "-c",
                "cd \(DebianTests.bundle.path) && \(fixture.moat) bench --workloads=python3-startup --rootfs rootfs --against runc --runs 1 --warmup 0"
            ])
        #expect(relative.status == 0 && !relative.stdout.contains("failed"), "\(relative.stdout) \(relative.stderr)")
        let unknown = Command.run(fixture.moat, ["bench", "--workloads=python3-startup,nosuch", "--rootfs", rootfs])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown workload nosuch"), "\(unknown.stderr)")
        let noRootfs = Command.run(fixture.moat, ["bench", "--workloads", "--rootfs", dir.appendingPathComponent("none").path])
        #expect(noRootfs.status != 0 && noRootfs.stderr.contains("is not a rootfs with /bin/bash"), "\(noRootfs.stderr)")
        #expect(Command.run(fixture.moat, ["bench", "--rootfs", rootfs]).status == 2)
    }
}
