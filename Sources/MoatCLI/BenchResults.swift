import Bench
import OCI

/// Every sample of one `moat bench` run, and the table, JSON and chart made of them.
struct BenchResults {
    let runtimes: [String]
    let runs: Int
    let warmup: Int
    let densityCount: Int
    var boot: [String: Samples] = [:]
    var firstInstruction: [String: Samples] = [:]
    /// KiB: PSS and RSS of a runtime's whole process tree once idle, its peak
    /// RSS (each process's VmHWM, summed) and its peak PSS (sampled over its life).
    struct Memory {
        var pss = Samples()
        var rss = Samples()
        var peak = Samples()
        var peakPss = Samples()
    }
    var memory: [String: Memory] = [:]
    /// KiB of PSS per sandbox with several idling at once.
    var density: [String: Double] = [:]
    /// ns per call, keyed "runtime call".
    var syscalls: [String: Samples] = [:]
    var machine: [(String, String)] = []
    /// The sentry's own work per operation (ns), measured in-process.
    var hotPaths: [(String, Double)] = []

    static let calls = ["getpgid", "getuid", "clock_gettime", "open_read_close", "stat", "fork_wait"]
    static let callLabels = [
        "getpgid": "getpgid (served)", "getuid": "getuid (passthrough)", "clock_gettime": "clock_gettime",
        "open_read_close": "open+read+close", "stat": "stat", "fork_wait": "fork+wait"
    ]

    func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(1, n - s.count))
        return right ? fill + s : s + fill
    }

    func table() -> String {
        let native = boot["native"]?.median ?? .nan
        var out = "moat bench: \(runs) runs per runtime after \(warmup) warm-up, interleaved; medians (min-max)\n\n"
        out += pad("boot", 10) + pad("wall ms", 24) + pad("vs native", 11) + pad("first instr. ms", 17) + "vs runsc\n"
        let runsc = boot["runsc"]?.median
        if runsc == nil { out = out.replacing("first instr. ms  vs runsc\n", with: "first instr. ms\n") }
        for name in runtimes {
            guard let s = boot[name] else { continue }
            out +=
                pad(name, 10) + pad("\(fixed(s.median, 2)) (\(fixed(s.min, 2))-\(fixed(s.max, 2)))", 24)
                + pad(name == "native" ? "" : ratio(s.median, to: native), 11)
                + pad(firstInstruction[name].map { fixed($0.median, 2) } ?? "-", 17)
                + (runsc.map { name == "runsc" ? "" : ratio($0, to: s.median) + " faster" } ?? "") + "\n"
        }
        let nativePss = memory["native"]?.pss.median ?? 0
        let nativePeak = memory["native"]?.peakPss.median ?? 0
        out +=
            "\n" + pad("memory", 10) + pad("PSS MiB", 10) + pad("overhead", 11) + pad("peak PSS", 10) + pad("overhead", 11)
            + pad("RSS MiB", 10) + pad("peak RSS", 10) + "PSS per sandbox, \(densityCount) idle\n"
        for name in runtimes {
            guard let m = memory[name] else { continue }
            out +=
                pad(name, 10) + pad(fixed(m.pss.median / 1024, 2), 10)
                + pad(name == "native" ? "" : fixed((m.pss.median - nativePss) / 1024, 2), 11)
                + pad(fixed(m.peakPss.median / 1024, 2), 10)
                + pad(name == "native" ? "" : fixed((m.peakPss.median - nativePeak) / 1024, 2), 11)
                + pad(fixed(m.rss.median / 1024, 2), 10) + pad(fixed(m.peak.median / 1024, 2), 10)
                + (density[name].map { fixed(($0 - nativePss) / 1024, 2) + " MiB over native" } ?? "") + "\n"
        }
        out += "(memory: each tree after 1.5 s idle; peak PSS: the most of the tree's PSS sampled every ~2 ms from spawn;\n"
        out += " peak RSS: the most each process held, summed)\n"
        out += "\n" + pad("syscall", 22) + pad("native ns", 11) + pad("moat ns", 11) + "ratio\n"
        for call in BenchResults.calls {
            guard let n = syscalls["native " + call]?.median, let m = syscalls["moat " + call]?.median else { continue }
            out += pad(BenchResults.callLabels[call] ?? call, 22) + pad(fixed(n, 0), 11) + pad(fixed(m, 0), 11) + ratio(m, to: n) + "\n"
        }
        if !hotPaths.isEmpty {
            out += "\nsentry hot paths (in-process, ns per operation)\n"
            for (name, ns) in hotPaths { out += pad(name, 56) + fixed(ns, 1) + "\n" }
        }
        out += "\n" + machine.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "\n"
        return out
    }

    func json() -> JSON {
        return .object([
            ("runs", .int(runs)), ("warmup", .int(warmup)), ("densitySandboxes", .int(densityCount)),
            ("machine", .object(machine.map { ($0.0, .string($0.1)) })),
            ("bootMs", .object(runtimes.compactMap { name in boot[name].map { (name, $0.json) } })),
            ("firstInstructionMs", .object(runtimes.compactMap { name in firstInstruction[name].map { (name, $0.json) } })),
            (
                "memoryKiB",
                .object(
                    runtimes.compactMap { name in
                        memory[name].map {
                            (name, .object([("pss", $0.pss.json), ("rss", $0.rss.json), ("peakRss", $0.peak.json), ("peakPss", $0.peakPss.json)]))
                        }
                    })
            ),
            ("densityPssKiBPerSandbox", .object(runtimes.compactMap { name in density[name].map { (name, .number(fixed($0, 1))) } })),
            ("syscallNs", .object(syscalls.keys.sorted().map { ($0, syscalls[$0]!.json) })),
            ("sentryHotPathsNs", .object(hotPaths.map { ($0.0, .number(fixed($0.1, 2))) }))
        ])
    }

    func chart() -> Chart {
        let nativePss = memory["native"]?.pss.median ?? 0
        var panels = [
            Chart.Panel(
                title: "Boot: run /bin/true from a bundle", unit: "ms",
                bars: runtimes.compactMap { name in boot[name].map { Chart.Bar(name, $0.median) } }),
            Chart.Panel(
                title: "Memory overhead: PSS beyond the workload's own", unit: "MiB",
                bars: runtimes.filter { $0 != "native" }.compactMap { name in
                    memory[name].map { Chart.Bar(name, max(0.01, ($0.pss.median - nativePss) / 1024)) }
                })
        ]
        var costBars: [Chart.Bar] = []
        for call in BenchResults.calls {
            for runtime in ["native", "moat"] {
                if let s = syscalls[runtime + " " + call] {
                    costBars.append(Chart.Bar("\(runtime == "moat" ? "moat" : "native") \(call)", max(1, s.median)))
                }
            }
        }
        panels.append(Chart.Panel(title: "Syscall cost", unit: "ns", bars: costBars))
        return Chart(title: "moat bench", subtitle: machine.map { "\($0.0) \($0.1)" }.joined(separator: " · "), panels: panels)
    }
}

extension Samples {
    /// Median, min, max and every sample, as the JSON reports give them.
    var json: JSON {
        .object([
            ("median", .number(fixed(median, 3))), ("min", .number(fixed(min, 3))), ("max", .number(fixed(max, 3))),
            ("samples", .array(values.map { .number(fixed($0, 3)) }))
        ])
    }
}
