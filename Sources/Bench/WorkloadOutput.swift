/// What one run of a `moat bench --workloads` script reported on its output.
public enum WorkloadOutput: Sendable, Equatable {
    /// The measured part's wall time, in milliseconds.
    case measured(ms: Double)
    /// A program the workload needs is not in the rootfs.
    case missing(program: String)
    /// No measurement: the last line it printed, to show why.
    case failed(lastLine: String)

    /// Reads the script's output ("moat-bench-us N" once the measured part is
    /// done, "moat-bench-missing PROGRAM" when it cannot run). A run that did not
    /// exit 0 failed even if it printed a time: its measured part may be short.
    public static func parse(_ text: String, exitStatus: Int32) -> WorkloadOutput {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }
        if let missing = lines.first(where: { $0.hasPrefix("moat-bench-missing ") }) {
            return .missing(program: String(missing.dropFirst("moat-bench-missing ".count)))
        }
        let last = lines.last(where: { !$0.isEmpty }).map(String.init) ?? "exit status \(exitStatus)"
        guard exitStatus == 0 else { return .failed(lastLine: last + " (exit status \(exitStatus))") }
        guard let line = lines.last(where: { $0.hasPrefix("moat-bench-us ") }),
            let us = Double(line.dropFirst("moat-bench-us ".count)), us >= 0
        else {
            return .failed(lastLine: "no moat-bench-us line: " + last)
        }
        return .measured(ms: us / 1000)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }
}
