import Glibc
import Platform

extension ContainerInfo {
    /// `start`: asks the supervisor of a created container to let its program run.
    public func start() throws(ConfigError) {
        guard status.mayStart else { throw ConfigError("container \(id) is \(status), not created") }
        let connection = try ControlSocket.send(directory: directory, ControlRequest.start.encoded)
        defer { close(connection) }
        guard ControlSocket.readLine(connection).flatMap(ControlReply.decode) == .ok else {
            throw ConfigError("the container's supervisor did not start it")
        }
    }
}

extension ControlSocket {
    /// The supervisor's end: waits for a start request; false when `pid`
    /// exits first (killed while created). Anything else asked meanwhile is
    /// refused: an exec before start has no process to join.
    public func awaitStart(whileAlive pid: pid_t) -> Bool {
        let pidfd = ProcessCalls.pidfd(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        while true {
            let fds: [Int32] = pidfd >= 0 ? [descriptor, pidfd] : [descriptor]
            let ready = ProcessCalls.readable(fds, timeoutMs: -1)
            if ready & 2 != 0 { return false }
            guard ready & 1 != 0, let request = accept() else { continue }
            defer {
                request.closeReceivedFDs()
                request.finish()
            }
            if (try? ControlRequest.decode(request.text)) == .start {
                request.reply(ControlReply.ok.encoded)
                return true
            }
            request.reply(ControlReply.error("the container is not started yet").encoded)
        }
    }
}
