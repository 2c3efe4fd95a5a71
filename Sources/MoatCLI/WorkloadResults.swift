import Bench
import OCI

/// Every sample of one `moat bench --workloads` run, and its table, JSON and chart.
struct WorkloadResults {
    let runtimes: [String]
    let runs: Int
    let warmup: Int
    /// The workloads that ran, in order.
    var workloads: [String] = []
    /// ms of each workload's measured part, keyed "workload runtime".
    var ms: [String: Samples] = [:]
    /// Why a workload failed under a runtime, keyed "workload runtime".
    var failures: [String: String] = [:]
    /// The calls the sentry served in one run, most frequent first, keyed "workload runtime".
    var served: [String: [(name: String, count: Int)]] = [:]
    var machine: [(String, String)] = []
    var rootfs = ""

    mutating func fail(_ workload: String, _ runtime: String, _ why: String) {
        failures[workload + " " + runtime] = why
        BenchCommand.progress("\rbench: \(workload) fails under \(runtime): \(why)\n")
    }

    func median(_ workload: String, _ runtime: String) -> Double? {
        ms[workload + " " + runtime].map(\.median)
    }

    func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(1, n - s.count)) }

    func table() -> String {
        let others = runtimes.filter { $0 != "native" }
        var out =
            "moat bench --workloads: \(runs) runs per runtime after \(warmup) warm-up, interleaved; "
            + "medians of each workload's measured part, ms (ratio to native)\n\n"
        out += pad("workload", 17) + runtimes.map { pad($0, 19) }.joined()
        if runtimes.contains("runc") { out += others.filter { $0 != "runc" }.map { pad($0 + "/runc", max(12, $0.count + 7)) }.joined() }
        out += "\n"
        for workload in workloads {
            let native = median(workload, "native") ?? .nan
            out += pad(workload, 17)
            for runtime in runtimes {
                guard let m = median(workload, runtime) else {
                    out += pad(failures[workload + " " + runtime] == nil ? "-" : "failed", 19)
                    continue
                }
                out += pad(fixed(m, m >= 100 ? 0 : 1) + (runtime == "native" ? "" : " (" + ratio(m, to: native) + ")"), 19)
            }
            if runtimes.contains("runc"), let runc = median(workload, "runc") {
                for runtime in others where runtime != "runc" {
                    out += pad(median(workload, runtime).map { ratio($0, to: runc) } ?? "-", max(12, runtime.count + 7))
                }
            }
            out += "\n"
        }
        for workload in workloads { out += "\n" + pad(workload, 17) + (WorkloadBench.descriptions[workload] ?? "") }
        if !served.isEmpty {
            out += "\n\nserved by the sentry in one run (how many, then the most frequent calls):"
            for workload in workloads {
                for runtime in runtimes {
                    guard let calls = served[workload + " " + runtime] else { continue }
                    let total = calls.reduce(0) { $0 + $1.count }
                    out +=
                        "\n  " + pad(workload, 16) + pad(runtime, 12) + pad("\(total)", 8)
                        + calls.prefix(4).map { "\($0.name) \($0.count)" }.joined(separator: ", ")
                }
            }
        }
        if !failures.isEmpty {
            out += "\n\nfailed:\n" + failures.keys.sorted().map { "  \($0): \(failures[$0]!)" }.joined(separator: "\n")
        }
        out += "\n\nrootfs: \(rootfs)\n" + machine.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "\n"
        return out
    }

    func json() -> JSON {
        return .object([
            ("runs", .int(runs)), ("warmup", .int(warmup)), ("rootfs", .string(rootfs)),
            ("machine", .object(machine.map { ($0.0, .string($0.1)) })),
            (
                "workloadMs",
                .object(
                    workloads.map { workload in
                        (workload, .object(runtimes.compactMap { runtime in ms[workload + " " + runtime].map { (runtime, $0.json) } }))
                    })
            ),
            ("failures", .object(failures.keys.sorted().map { ($0, .string(failures[$0]!)) })),
            ("servedCalls", .object(served.keys.sorted().map { key in (key, .object(served[key]!.map { ($0.name, .int($0.count)) })) }))
        ])
    }

    /// One panel per workload, a bar per runtime.
    func chart() -> Chart {
        Chart(
            title: "moat bench --workloads", subtitle: machine.map { "\($0.0) \($0.1)" }.joined(separator: " · "),
            panels: workloads.map { workload in
                Chart.Panel(
                    title: workload + ": " + (WorkloadBench.descriptions[workload] ?? ""), unit: "ms",
                    bars: runtimes.compactMap { runtime in median(workload, runtime).map { Chart.Bar(runtime, $0) } })
            })
    }
}
