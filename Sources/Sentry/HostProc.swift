import Glibc
import Platform

/// Reads the host's /proc entries for tracees (the supervisor's view, host pids).
enum HostProc {
    /// Fields of /proc/<tid>/status that the sentry needs.
    struct Status {
        var tgid: HostTid = 0
        var ppid: HostTid = 0
        var nspid: Int32 = 0          // innermost namespace: the sandbox's pid
        var effectiveCaps: UInt64 = 0
    }

    static func status(_ tid: HostTid) -> Status? {
        guard let bytes = HostProcfs.read("\(tid)/status") else { return nil }
        var status = Status()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let key = String(decoding: line[..<colon], as: UTF8.self)
            let values = line[(colon + 1)...].split(whereSeparator: { $0 == 9 || $0 == 32 })
            guard let last = values.last else { continue }
            let text = String(decoding: last, as: UTF8.self)
            switch key {
            case "Tgid": status.tgid = HostTid(text) ?? 0
            case "PPid": status.ppid = HostTid(text) ?? 0
            case "NSpid": status.nspid = Int32(text) ?? 0
            case "CapEff": status.effectiveCaps = UInt64(text, radix: 16) ?? 0
            default: continue
            }
        }
        return status.tgid == 0 ? nil : status
    }

    /// utime, stime, cutime, cstime (clock ticks) from /proc/<pid>/stat.
    static func cpuTimes(_ pid: HostTid) -> [Int64]? {
        guard let bytes = HostProcfs.read("\(pid)/stat"),
              let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields after "(comm)": state is field 3; utime..cstime are 14...17.
        let fields = bytes[(close + 2)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 14 else { return nil }
        return (11...14).map { Int64(String(decoding: fields[$0], as: UTF8.self)) ?? 0 }
    }
}
