import Glibc
import Platform

/// config.json hooks, at the runtime-spec's moments: prestart and
/// createRuntime (the workload's namespaces and mounts exist, before
/// pivot_root), createContainer (then, inside the container's namespaces,
/// the host's tree still its root), startContainer (inside the container,
/// before its program runs), poststart and poststop. Each gets the state
/// JSON on stdin.
public struct Hooks: Equatable, Sendable {
    public struct Hook: Equatable, Sendable {
        public var path: String
        public var args: [String]
        public var env: [String]
        public var timeout: Int?
    }

    public var prestart: [Hook] = []
    public var createRuntime: [Hook] = []
    public var createContainer: [Hook] = []
    public var startContainer: [Hook] = []
    public var poststart: [Hook] = []
    public var poststop: [Hook] = []

    /// Whether any hook runs while the workload is being created (before pivot_root).
    public var runWhileCreating: Bool { !prestart.isEmpty || !createRuntime.isEmpty || !createContainer.isEmpty }

    static func decode(_ field: Field) throws(ConfigError) -> Hooks {
        try field.only(["prestart", "createRuntime", "poststart", "poststop", "createContainer", "startContainer"])
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
        return Hooks(
            prestart: try list("prestart"), createRuntime: try list("createRuntime"),
            createContainer: try list("createContainer"), startContainer: try list("startContainer"),
            poststart: try list("poststart"), poststop: try list("poststop"))
    }

    /// prestart, createRuntime, then createContainer inside the namespaces of
    /// `initPid`, which waits before pivot_root. The first failure is thrown;
    /// the container must not start.
    public func runWhileCreating(state: JSON, initPid: pid_t) throws(ConfigError) {
        try Hooks.run(prestart, kind: "prestart", state: state)
        try Hooks.run(createRuntime, kind: "createRuntime", state: state)
        try Hooks.run(createContainer, kind: "createContainer", state: state, inside: initPid)
    }

    /// startContainer, inside the container (its paths are the container's).
    public func runStartContainer(state: JSON, initPid: pid_t) throws(ConfigError) {
        try Hooks.run(startContainer, kind: "startContainer", state: state, inside: initPid)
    }

    /// Runs `hooks` in order with `state` (runtime-spec state JSON) on stdin,
    /// in the runtime's namespaces or inside those of `inside`; the first
    /// that fails or times out stops the rest and is reported.
    public static func run(_ hooks: [Hook], kind: String, state: JSON, inside: pid_t? = nil) throws(ConfigError) {
        let input = state.rendered(pretty: false)
        for (index, hook) in hooks.enumerated() {
            if let problem = execute(hook, input: input, inside: inside) {
                throw ConfigError("hooks.\(kind)[\(index)] \(hook.path): \(problem)")
            }
        }
    }

    /// Writes the state to a hook's stdin. A hook that exits without reading
    /// it makes the write fail with EPIPE, and that must not kill this process
    /// with SIGPIPE (moat ignores the signal; a program using this library may
    /// not): it is held for this thread and, when the write raised it, taken back.
    static func writeState(_ text: String, to fd: Int32) {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var pending = sigset_t()
        sigpending(&pending)
        let alreadyPending = sigismember(&pending, SIGPIPE) == 1
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if errno == EPIPE && !alreadyPending {
                    var now = timespec()
                    _ = sigtimedwait(&pipeSignal, nil, &now)
                }
                return
            }
            done += n
        }
    }

    /// nil when the hook exited 0.
    static func execute(_ hook: Hook, input: String, inside: pid_t?) -> String? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return "pipe: \(Errno.current)" }
        // Close-on-exec: the hook gets the read end as its stdin only.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let argv = (hook.args.isEmpty ? [hook.path] : hook.args).map { strdup($0) } + [nil]
        let envp = hook.env.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        let started =
            inside.map { spawnInside($0, hook.path, argv, envp, stdin: fds[0]) }
            ?? spawn(hook.path, argv, envp, stdin: fds[0])
        close(fds[0])
        guard case .success(let pid) = started else {
            close(fds[1])
            if case .failure(let error) = started { return "\(error)" }
            return nil
        }
        Hooks.writeState(input, to: fds[1])
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
        let ended = WaitStatus(status)
        if ended.exitCode == 0 { return nil }
        if inside != nil, let code = ended.exitCode {
            // The middle process reports the hook's status as a shell would.
            switch code {
            case 127: return "no such file in the container"
            case 126: return "cannot run it in the container"
            case let code where code > 128: return "killed by signal \(code - 128)"
            default: break
            }
        }
        if let code = ended.exitCode { return "exited with \(code)" }
        return "killed by signal \(ended.signal ?? 0)"
    }

    /// In the runtime's namespaces, with default signal dispositions (moat ignores SIGPIPE).
    static func spawn(
        _ path: String, _ argv: [UnsafeMutablePointer<CChar>?], _ envp: [UnsafeMutablePointer<CChar>?],
        stdin: Int32
    ) -> Result<pid_t, Errno> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        return spawned == 0 ? .success(pid) : .failure(Errno(spawned))
    }

    /// Inside the namespaces of `initPid`.
    static func spawnInside(
        _ initPid: pid_t, _ path: String, _ argv: [UnsafeMutablePointer<CChar>?],
        _ envp: [UnsafeMutablePointer<CChar>?], stdin: Int32
    ) -> Result<pid_t, Errno> {
        do { return .success(try ProcessCalls.runInNamespaces(of: initPid, path, argv: argv, envp: envp, stdin: stdin)) } catch {
            return .failure(error)
        }
    }
}
