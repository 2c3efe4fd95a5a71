/// The processes a runtime runs as, and the memory they hold.
public enum ProcessTree {
    /// `root` and every process below it, from a pid → parent map.
    public static func descendants(of root: Int32, parents: [Int32: Int32]) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for (pid, parent) in parents { children[parent, default: []].append(pid) }
        var found: [Int32] = []
        var stack = [root]
        var seen: Set<Int32> = []
        while let pid = stack.popLast() {
            guard seen.insert(pid).inserted else { continue }
            found.append(pid)
            stack.append(contentsOf: children[pid] ?? [])
        }
        return found.sorted()
    }

    /// The parent pid from /proc/<pid>/stat: the field after the state,
    /// found after the last ')' because the command name may hold anything.
    public static func parent(fromStat text: String) -> Int32? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Pss and Rss in KiB from /proc/<pid>/smaps_rollup.
    public static func memory(fromSmapsRollup text: String) -> (pss: Int, rss: Int)? {
        var pss: Int?
        var rss: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let value = Int(parts[1]) else { continue }
            if parts[0] == "Pss:" { pss = value }
            if parts[0] == "Rss:" { rss = value }
        }
        guard let pss, let rss else { return nil }
        return (pss, rss)
    }

    /// VmHWM (peak RSS, KiB) from /proc/<pid>/status.
    public static func peakRss(fromStatus text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
