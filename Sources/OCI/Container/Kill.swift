import Glibc

extension ContainerInfo {
    /// `kill`: sends `signal` to the container's init, or with `all` to every
    /// process of the container. A container that is not created, running or
    /// paused has nothing to signal.
    public func kill(_ signal: Int32, all: Bool) throws(ConfigError) {
        guard status.maySignal, let initPid else { throw ConfigError("container \(id) is \(status)") }
        let targets = all ? Signals.processesOfContainer(init: initPid, supervisor: pid) : [initPid]
        for target in targets where Glibc.kill(target, signal) != 0 && target == initPid {
            throw ConfigError("kill \(id): \(String(cString: strerror(errno)))")
        }
    }
}
