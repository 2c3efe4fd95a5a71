import Glibc

extension ContainerInfo {
    /// `pause`: every process of a running container is put in group-stop
    /// (SIGSTOP, which even the init cannot ignore from outside).
    public func pause(root: String) throws(ConfigError) {
        try signalAll(from: .running, signal: SIGSTOP, paused: true, root: root)
    }

    /// `resume`: a paused container's processes continue.
    public func resume(root: String) throws(ConfigError) {
        try signalAll(from: .paused, signal: SIGCONT, paused: false, root: root)
    }

    /// Signals every process of the container when it is `expected`, then records whether it is paused.
    private func signalAll(from expected: ContainerStatus, signal: Int32, paused: Bool, root: String) throws(ConfigError) {
        guard status == expected, let initPid else { throw ConfigError("container \(id) is \(status), not \(expected)") }
        for target in Signals.processesOfContainer(init: initPid, supervisor: pid) { Glibc.kill(target, signal) }
        ContainerInfo.markPaused(root: root, id: id, paused)
    }
}
