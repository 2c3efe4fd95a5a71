import CShims
import Glibc
import Platform

/// config.json hooks that run in the runtime's namespaces: prestart and
/// createRuntime (the workload's namespaces exist, it has not started),
/// poststart (it has started), poststop (it has stopped). createContainer
/// and startContainer, which run inside the container, are refused for now.
public struct Hooks: Equatable, Sendable {
    public struct Hook: Equatable, Sendable {
        public var path: String
        public var args: [String]
        public var env: [String]
        public var timeout: Int?
    }

    public var prestart: [Hook] = []
    public var createRuntime: [Hook] = []
    public var poststart: [Hook] = []
    public var poststop: [Hook] = []

    public var isEmpty: Bool { prestart.isEmpty && createRuntime.isEmpty && poststart.isEmpty && poststop.isEmpty }

    static func decode(_ field: Field) throws(ConfigError) -> Hooks {
        try field.only(["prestart", "createRuntime", "poststart", "poststop", "createContainer", "startContainer"])
        for key in ["createContainer", "startContainer"] where field[key].isNonEmpty {
            throw field[key].error("hooks that run inside the container are not supported yet")
        }
        func list(_ key: String) throws(ConfigError) -> [Hook] {
            var hooks: [Hook] = []
            for item in try field[key].items() {
                try item.only(["path", "args", "env", "timeout"])
                let path = try item["path"].string()
                guard path.hasPrefix("/") else { throw item["path"].error("must be an absolute path") }
                let timeout = item["timeout"].isPresent ? Int(try item["timeout"].unsigned(UInt32.self)) : nil
                if timeout == 0 { throw item["timeout"].error("must be at least 1 second") }
                hooks.append(Hook(path: path, args: try item["args"].strings(), env: try item["env"].strings(), timeout: timeout))
            }
            return hooks
        }
        return Hooks(prestart: try list("prestart"), createRuntime: try list("createRuntime"),
                     poststart: try list("poststart"), poststop: try list("poststop"))
    }

    /// prestart then createRuntime: the workload's namespaces exist, it has
    /// not started. The first failure is thrown; the container must not start.
    public func runBeforeStart(state: JSON) throws(ConfigError) {
        try Hooks.run(prestart, kind: "prestart", state: state)
        try Hooks.run(createRuntime, kind: "createRuntime", state: state)
    }

    /// Runs `hooks` in order with `state` (runtime-spec state JSON) on stdin;
    /// the first that fails or times out stops the rest and is reported.
    public static func run(_ hooks: [Hook], kind: String, state: JSON) throws(ConfigError) {
        let input = state.rendered(pretty: false)
        for (index, hook) in hooks.enumerated() {
            if let problem = execute(hook, input: input) {
                throw ConfigError("hooks.\(kind)[\(index)] \(hook.path): \(problem)")
            }
        }
    }

    /// nil when the hook exited 0.
    static func execute(_ hook: Hook, input: String) -> String? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return "pipe: \(Errno.current)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv = (hook.args.isEmpty ? [hook.path] : hook.args).map { strdup($0) } + [nil]
        let envp = hook.env.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // The hook gets default signal dispositions (moat ignores SIGPIPE).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, hook.path, &actions, &attributes, argv, envp)
        close(fds[0])
        guard spawned == 0 else {
            close(fds[1])
            return String(cString: strerror(spawned))
        }
        _ = input.withCString { write(fds[1], $0, strlen($0)) }
        close(fds[1])
        let deadline = hook.timeout.map { Int64($0) * 1000 }
        var waited: Int64 = 0
        var status: Int32 = 0
        while true {
            let got = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if got == pid { break }
            if got < 0 && errno != EINTR { return "wait: \(Errno.current)" }
            if let deadline, waited >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return "timed out after \(hook.timeout!) s"
            }
            usleep(10_000)
            waited += 10
        }
        if moat_wifexited(status) != 0 && moat_wexitstatus(status) == 0 { return nil }
        return moat_wifexited(status) != 0 ? "exited with \(moat_wexitstatus(status))" : "killed by signal \(moat_wtermsig(status))"
    }
}
