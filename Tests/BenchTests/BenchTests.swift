import Foundation
import Testing

@testable import Bench

/// The measuring code itself: statistics, the interleaved order, /proc parsing and the chart.
@Suite struct BenchTests {
    @Test func medianMinMax() {
        #expect(Samples([5, 1, 3]).median == 3)
        #expect(Samples([4, 1, 3, 2]).median == 2.5)
        #expect(Samples([4, 1, 3, 2]).min == 1 && Samples([4, 1, 3, 2]).max == 4)
        #expect(Samples().median.isNaN)
    }

    @Test func everyRoundRunsEveryRuntimeOnceInARotatingOrder() {
        let slots = Schedule.interleaved(runtimes: 3, runs: 4, warmup: 2)
        #expect(slots.count == 18)
        #expect(slots.filter(\.isWarmup).count == 6 && slots.prefix(6).allSatisfy(\.isWarmup))
        for round in 0..<6 {
            #expect(Set(slots.filter { $0.round == round }.map(\.runtime)) == [0, 1, 2], "round \(round)")
        }
        // No runtime always goes first: drift is shared.
        #expect(Set(slots.filter { !$0.isWarmup }.enumerated().filter { $0.offset % 3 == 0 }.map(\.element.runtime)) == [0, 1, 2])
        for runtime in 0..<3 { #expect(slots.filter { !$0.isWarmup && $0.runtime == runtime }.count == 4) }
    }

    @Test func workloadOutput() {
        #expect(WorkloadOutput.parse("setting up\nmoat-bench-us 123456\n", exitStatus: 0) == .measured(ms: 123.456))
        #expect(WorkloadOutput.parse("moat-bench-us 5\r\n", exitStatus: 0) == .measured(ms: 0.005))
        // A run that failed after measuring is a failure, not a short sample.
        #expect(WorkloadOutput.parse("moat-bench-us 5\nboom\n", exitStatus: 1) == .failed(lastLine: "boom (exit status 1)"))
        #expect(WorkloadOutput.parse("moat-bench-missing redis-server\n", exitStatus: 3) == .missing(program: "redis-server"))
        #expect(WorkloadOutput.parse("", exitStatus: 0) == .failed(lastLine: "no moat-bench-us line: exit status 0"))
        #expect(WorkloadOutput.parse("moat-bench-us -4\n", exitStatus: 0) == .failed(lastLine: "no moat-bench-us line: moat-bench-us -4"))
        #expect(WorkloadOutput.parse("moat-bench-us 1e400x\n", exitStatus: 0) == .failed(lastLine: "no moat-bench-us line: moat-bench-us 1e400x"))
    }

    @Test func smapsRollupAndStat() {
        let rollup = """
            55d0a1e0e000-7ffd5b3f7000 ---p 00000000 00:00 0                          [rollup]
            Rss:                5480 kB
            Pss:                3020 kB
            Pss_Dirty:          1200 kB
            Pss_Anon:           1100 kB
            Shared_Clean:       2400 kB
            """
        #expect(ProcessTree.memory(fromSmapsRollup: rollup)! == (3020, 5480))
        #expect(ProcessTree.memory(fromSmapsRollup: "Rss: 1 kB\n") == nil)
        #expect(ProcessTree.parent(fromStat: "1234 (moat) S 77 1234 1234 0 -1") == 77)
        #expect(ProcessTree.parent(fromStat: "99 (a) b) c) R 5 99 99") == 5, "a command name holding ') '")
        #expect(ProcessTree.parent(fromStat: "garbage") == nil)
        #expect(ProcessTree.peakRss(fromStatus: "Name:\tmoat\nVmPeak:\t  9000 kB\nVmHWM:\t    6416 kB\nVmRSS:\t 1228 kB\n") == 6416)
        #expect(ProcessTree.peakRss(fromStatus: "Name:\tkthreadd\n") == nil)
    }

    @Test func descendantsFollowTheTreeOnly() {
        let parents: [Int32: Int32] = [10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20]
        #expect(ProcessTree.descendants(of: 10, parents: parents) == [10, 11, 12, 13])
        #expect(ProcessTree.descendants(of: 21, parents: parents) == [21])
        #expect(ProcessTree.descendants(of: 99, parents: parents) == [99])
    }

    @Test func numbersAndRatios() {
        #expect(fixed(3.14159, 2) == "3.14")
        #expect(fixed(0.005, 2) == "0.01" || fixed(0.005, 2) == "0.00")
        #expect(fixed(12.0, 0) == "12")
        #expect(fixed(-1.5, 1) == "-1.5")
        #expect(fixed(2.05, 2) == "2.05")
        #expect(ratio(50, to: 5) == "x10")
        #expect(ratio(7.5, to: 5) == "x1.5")
        #expect(ratio(4, to: 5) == "x0.80")
        #expect(ratio(1, to: 0) == "-")
    }

    @Test func chartIsLogScaledSVG() {
        #expect(Chart.logPosition(10, low: 1, high: 100) == 0.5)
        #expect(Chart.logPosition(1000, low: 1, high: 100) == 1)
        #expect(Chart.logPosition(0, low: 1, high: 100) == 0)
        let chart = Chart(
            title: "t <&>", subtitle: "s",
            panels: [
                Chart.Panel(title: "Boot", unit: "ms", bars: [Chart.Bar("native", 0.5), Chart.Bar("moat", 5), Chart.Bar("runc", 50)])
            ])
        let svg = chart.svg
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("t &lt;&amp;&gt;"))
        #expect(svg.components(separatedBy: "<rect x=").count - 1 == 3)
        // Longer bars for larger values: 0.5 < 5 < 50 ms.
        let widths = svg.split(separator: "\n").filter { $0.hasPrefix("<rect x=") }.compactMap { line -> Double? in
            guard let range = line.range(of: "width=\"") else { return nil }
            return Double(line[range.upperBound...].prefix { $0 != "\"" })
        }
        #expect(widths.count == 3 && widths[0] < widths[1] && widths[1] < widths[2])
        #expect(svg.contains(">5.00 ms<") && svg.contains(">50.0 ms<") && svg.contains(">0.50 ms<"))
    }
}
