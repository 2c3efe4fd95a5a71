import Glibc
import Platform

extension ContainerInfo {
    /// `delete`: removes a stopped container; with `force`, a created,
    /// running or paused one is killed first (its supervisor, whose death
    /// kills every workload task, and its init). The poststop hooks of the
    /// bundle it was made from run (failures go to `warn`), and the cgroup
    /// a killed supervisor could not remove is removed here.
    public static func delete(root: String, id: String, force: Bool, warn: (String) -> Void) throws(ConfigError) {
        var info = try ContainerInfo.load(root: root, id: id)
        var cgroup: Cgroup?
        if !info.status.mayDelete {
            guard force else { throw ConfigError("container \(info.id) is \(info.status): stop it first or use --force") }
            if let pid = info.pid, let path = (try? Bundle(directory: info.bundle))?.cgroupPath {
                cgroup = Cgroup(of: pid, expected: path, controllers: Cgroup.Controller.accounting)
            }
            // Killing the supervisor kills every workload task (PTRACE_O_EXITKILL).
            if let pid = info.pid { Glibc.kill(pid, SIGKILL) }
            if let initPid = info.initPid { Glibc.kill(initPid, SIGKILL) }
        }
        // A supervisor that has just written "stopped" may still be exiting.
        var waited = 0
        while info.supervised && waited < 500 {
            usleep(10_000)
            waited += 1
            info = try ContainerInfo.load(root: root, id: id)
        }
        guard !info.supervised else { throw ConfigError("container \(info.id): its supervisor did not exit") }
        // poststop hooks come from the bundle the container was made from.
        if let bundle = try? Bundle(directory: info.bundle) {
            do { try Hooks.run(bundle.spec.hooks.poststop, kind: "poststop", state: info.specState) } catch { warn("\(error)") }
        }
        info.remove()
        cgroup?.removeOnceEmpty()
    }
}
