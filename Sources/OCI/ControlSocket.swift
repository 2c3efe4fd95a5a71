import Glibc
import Platform

/// The supervisor's control socket in the container's state directory:
/// `moat start` connects and asks for the workload to be started.
public final class ControlSocket {
    let path: String
    let fd: Int32

    /// Listens at `<directory>/control.sock`.
    public convenience init(directory: String) throws(ConfigError) {
        try self.init(path: directory + "/" + ContainerState.controlSocket)
    }

    /// Listens at `path` (replacing what is there).
    public init(path: String) throws(ConfigError) {
        self.path = path
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigError("control socket: \(Errno.current)") }
        let bound: Int32
        do { bound = try ControlSocket.withAddress(path) { bind(fd, $0, $1) } } catch {
            close(fd)
            throw ConfigError("control socket \(path): \(error)")
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

    public var descriptor: Int32 { fd }

    /// One request: a line of text, and up to three fds passed with it.
    public final class Request {
        public let client: Int32
        public let text: String
        public let fds: [Int32]

        init(client: Int32, text: String, fds: [Int32]) {
            self.client = client
            self.text = text
            self.fds = fds
        }

        public func reply(_ line: String) {
            _ = line.withCString { write(client, $0, strlen($0)) }
        }

        public func closeReceivedFDs() { for fd in fds { close(fd) } }
        public func finish() { close(client) }
    }

    /// Accepts one connection and reads its request.
    public func accept() -> Request? {
        let client = Glibc.accept(fd, nil, nil)
        guard client >= 0 else { return nil }
        guard let message = ProcessCalls.receive(client, capacity: 65536) else {
            close(client)
            return nil
        }
        return Request(client: client, text: String(decoding: message.bytes, as: UTF8.self), fds: message.fds)
    }

    /// Connects to a supervisor, sends `text` with `fds`, and returns the
    /// connection for reading its answers.
    public static func send(directory: String, _ text: String, fds: [Int32] = []) throws(ConfigError) -> Int32 {
        let fd: Int32
        do { fd = try connect(directory + "/" + ContainerState.controlSocket) } catch {
            throw ConfigError("cannot reach the container's supervisor: \(error)")
        }
        let sent = ProcessCalls.send(fd, Array(text.utf8), fds: fds)
        guard sent > 0 else {
            close(fd)
            throw ConfigError("control socket: \(Errno(Int32(-sent)))")
        }
        return fd
    }

    /// Reads one line from a connection (nil at end).
    public static func readLine(_ fd: Int32) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }

    /// A stream connection to the unix socket at `path`.
    public static func connect(_ path: String) throws(Errno) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno.current }
        let connected: Int32
        do { connected = try withAddress(path) { Glibc.connect(fd, $0, $1) } } catch {
            close(fd)
            throw error
        }
        guard connected == 0 else {
            let error = Errno.current
            close(fd)
            throw error
        }
        return fd
    }

    /// Calls `body` with a sockaddr_un naming `path`. sun_path holds 107
    /// bytes, and engines' state roots are longer (Docker's
    /// /var/run/docker/runtime-runc/moby/<64 hex>/control.sock is 111): a
    /// longer path is named through its directory, held open, as
    /// /proc/self/fd/<dir>/<name>; the kernel resolves the link itself.
    static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) throws(Errno) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        var name = Array(path.utf8)
        var directory: Int32 = -1
        defer { if directory >= 0 { close(directory) } }
        if name.count >= capacity {
            guard let slash = name.lastIndex(of: UInt8(ascii: "/")), slash > 0 else { throw Errno(ENAMETOOLONG) }
            directory = open(String(decoding: name[..<slash], as: UTF8.self), OpenFlags.path | O_DIRECTORY | O_CLOEXEC)
            guard directory >= 0 else { throw Errno.current }
            name = Array("/proc/self/fd/\(directory)/".utf8) + name[(slash + 1)...]
            guard name.count < capacity else { throw Errno(ENAMETOOLONG) }
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: name)
            raw[name.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
