import Glibc

/// Small files of the host the supervisor reads for itself (config.json,
/// /proc/<tid>/status): the whole file, or nil with errno set.
public enum HostFile {
    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd)
    }

    /// The rest of an open file, or nil with errno set.
    public static func readAll(_ fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 { return nil }
            if n == 0 { return result }
            result += buffer[..<n]
        }
    }
}
