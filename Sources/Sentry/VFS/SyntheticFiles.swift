import CShims
import Glibc
import Platform

/// Files the sentry renders itself instead of the kernel's: /proc/meminfo
/// shows the sandbox's memory limit and use when the config sets a limit
/// (the kernel would show the host's memory).
extension Kernel {
    /// The descriptor to donate in place of `fd` (which it then closes), or nil to donate `fd`.
    func synthesized(_ fd: Int32) throws(Errno) -> Int32? {
        guard let limit = spec.memoryLimit, let files, FileSystem.onProcfs(fd),
              let path = HostProcfs.readLink("self/fd/\(fd)"),
              path == FileSystem.joined(files.procMount + [Array("meminfo".utf8)]) else { return nil }
        let used = cgroup?.memoryUsage ?? 0
        let text = Kernel.meminfo(limitKiB: limit / 1024, usedKiB: min(used, limit) / 1024)
        let created = moat_memfd("meminfo")
        guard created >= 0 else { throw Errno(Int32(-created)) }
        let memfd = Int32(created)
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ pwrite(memfd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            close(memfd)
            throw Errno.current
        }
        close(fd)
        return memfd
    }

    static func meminfo(limitKiB: Int64, usedKiB: Int64) -> String {
        let free = limitKiB - usedKiB
        let rows: [(String, Int64)] = [
            ("MemTotal", limitKiB), ("MemFree", free), ("MemAvailable", free), ("Buffers", 0), ("Cached", 0),
            ("SwapCached", 0), ("Active", usedKiB), ("Inactive", 0), ("SwapTotal", 0), ("SwapFree", 0),
            ("Dirty", 0), ("Writeback", 0), ("AnonPages", usedKiB), ("Mapped", 0), ("Shmem", 0),
        ]
        return rows.map { name, value in
            let label = name + ":"
            let number = String(value)
            return label + String(repeating: " ", count: max(1, 24 - label.count - number.count)) + number + " kB\n"
        }.joined()
    }
}
