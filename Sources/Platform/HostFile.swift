import Glibc

/// Small files of the host the supervisor reads for itself (config.json,
/// /proc/<tid>/status): the whole file, or nil with errno set.
public enum HostFile {
    /// mkdir -p of an absolute path, new directories with `mode`: nil, or
    /// the directory that could not be made and why.
    public static func makeDirectories(_ path: String, mode: mode_t) -> (path: String, error: Errno)? {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST { return (prefix, Errno.current) }
        }
        return nil
    }

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
