import CShims
import Glibc
import Platform

/// The supervisor's control socket in the container's state directory:
/// `moat start` connects and asks for the workload to be started.
public final class ControlSocket {
    let path: String
    let fd: Int32

    /// Listens at `<directory>/control.sock`.
    public init(directory: String) throws(ConfigError) {
        path = directory + "/" + ContainerState.controlSocket
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigError("control socket: \(Errno.current)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard ControlSocket.fill(&address, path) else { close(fd); throw ConfigError("\(path): path too long") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw ConfigError("control socket \(path): \(Errno.current)")
        }
        chmod(path, 0o600)
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Waits for a "start" request; false when `pid` exits first (killed
    /// while created). Answers the requester once the decision is made.
    public func awaitStart(whileAlive pid: HostTid) -> Bool {
        let pidfd = moat_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        while true {
            let fds: [Int32] = pidfd >= 0 ? [fd, pidfd] : [fd]
            let ready = moat_poll_readable(fds, Int32(fds.count), -1)
            if ready & 2 != 0 { return false }
            guard ready & 1 != 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = read(client, &buffer, buffer.count)
            if n > 0, String(decoding: buffer[..<n], as: UTF8.self).hasPrefix("start") {
                _ = "ok\n".withCString { write(client, $0, 3) }
                close(client)
                return true
            }
            _ = "unknown request\n".withCString { write(client, $0, strlen($0)) }
            close(client)
        }
    }

    /// Sends "start" to a supervisor and waits for its answer.
    public static func requestStart(directory: String) throws(ConfigError) {
        let path = directory + "/" + ContainerState.controlSocket
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigError("control socket: \(Errno.current)") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard fill(&address, path) else { throw ConfigError("\(path): path too long") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw ConfigError("cannot reach the container's supervisor: \(Errno.current)") }
        _ = "start\n".withCString { write(fd, $0, 6) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0, String(decoding: buffer[..<n], as: UTF8.self).hasPrefix("ok") else {
            throw ConfigError("the container's supervisor did not start it")
        }
    }

    static func fill(_ address: inout sockaddr_un, _ path: String) -> Bool {
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return true
    }
}
