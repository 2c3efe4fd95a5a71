import Glibc
import Platform
import Sentry

// `exec`: a new process in a running container, joining its namespaces and
// served by the same sentry. The caller sends an exec request with its stdio
// (and a console socket) over the supervisor's control socket; the
// supervisor answers `started`, then any `error`, then `exit`.

/// The caller's end of one exec: the connection to the supervisor, which
/// stays open until the process has exited.
public struct ExecSession: Sendable {
    public let connection: Int32
    public let pid: pid_t

    /// Reads the supervisor's last words: errors go to `report`, and the
    /// exit code is returned; 137 if the supervisor went away (the process
    /// was killed with it).
    public func waitForExit(report: (String) -> Void) -> Int32 {
        while let line = ControlSocket.readLine(connection) {
            switch ControlReply.decode(line) {
            case .error(let why): report(why)
            case .exit(let code): return code
            default: continue
            }
        }
        return 137
    }
}

extension ContainerInfo {
    /// Asks the supervisor of this running container to start `request` with
    /// `stdio` (stdin, stdout, stderr) and, for a terminal, `console` (a
    /// socket that receives the pty's master). Throws the supervisor's
    /// refusal as it gave it.
    public func exec(_ request: ExecRequest, stdio: [Int32], console: Int32? = nil) throws(ConfigError) -> ExecSession {
        guard status.mayExec else { throw ConfigError("container \(id) is \(status), not running") }
        guard stdio.count == 3 else { throw ConfigError("exec: pass stdin, stdout and stderr") }
        guard !request.args.isEmpty else { throw ConfigError("exec: name a command") }
        let connection = try ControlSocket.send(
            directory: directory, ControlRequest.exec(request).encoded, fds: stdio + (console.map { [$0] } ?? []))
        switch ControlSocket.readLine(connection).flatMap(ControlReply.decode) {
        case .started(let pid): return ExecSession(connection: connection, pid: pid)
        case .error(let why):
            close(connection)
            throw ConfigError(why)
        default:
            close(connection)
            throw ConfigError("exec: the supervisor did not answer")
        }
    }
}

/// The supervisor's end: each request on the control socket becomes a
/// process joined to the sandbox, answered `started`, then `exit` when it
/// ends. A bad request is refused with one `error` line, never half-applied.
struct ExecService {
    let control: ControlSocket
    let sandbox: SandboxSpec

    /// Serves the one request that made the control socket readable.
    func serveOne(_ kernel: Kernel) {
        guard let request = control.accept() else { return }
        defer { request.closeReceivedFDs() }
        let child: ChildSpec
        do {
            guard case .exec(let exec) = try ControlRequest.decode(request.text) else {
                throw ConfigError("the container is already started")
            }
            guard (3...4).contains(request.fds.count) else { throw ConfigError("exec: pass stdin, stdout, stderr (and a console)") }
            child = try Self.process(exec, in: sandbox.child, withConsole: request.fds.count == 4)
        } catch {
            request.reply(ControlReply.error("\(error)").encoded)
            request.finish()
            return
        }
        do {
            let console = request.fds.count == 4 ? request.fds[3] : -1
            let pid = try kernel.spawnJoined(child, stdio: Array(request.fds.prefix(3)), console: console) { status in
                if case .failedBeforeExec(let failure) = status {
                    request.reply(ControlReply.error(describe(failure, child: child, program: child.argv[0])).encoded)
                }
                request.reply(ControlReply.exit(status.code).encoded)
                request.finish()
            }
            request.reply(ControlReply.started(pid).encoded)
        } catch {
            request.reply(ControlReply.error("exec: \(error)").encoded)
            request.finish()
        }
    }

    /// The container's process with the request laid over it: its args,
    /// environment (replaced, then --env pairs set over it), cwd, user,
    /// groups, umask and terminal. Its filter, rootfs and namespaces stay
    /// the container's. A terminal needs a console socket to send the pty
    /// to; without one the process has the caller's stdio as they are.
    static func process(_ request: ExecRequest, in container: ChildSpec, withConsole: Bool) throws(ConfigError) -> ChildSpec {
        var child = container
        if !request.args.isEmpty { child.argv = request.args }
        if let env = request.env { child.env = env }
        for pair in request.extraEnv {
            let key = pair.prefix { $0 != "=" }
            child.env.removeAll { $0.hasPrefix(key + "=") }
            child.env.append(pair)
        }
        if let cwd = request.cwd { child.cwd = cwd }
        if let uid = request.uid { child.uid = uid }
        if let gid = request.gid { child.gid = gid }
        if let groups = request.additionalGids { child.groups = groups }
        if let umask = request.umask { child.umask = Int32(umask) }
        guard let program = child.argv.first else { throw ConfigError("exec: args must name a program") }
        child.executableCandidates = Bundle.executableCandidates(program, env: child.env)
        child.terminal = withConsole && request.terminal
        child.consoleSocket = nil
        child.consoleSize = request.consoleSize.map { ($0.rows, $0.columns) }
        child.preservedFDs = 0
        return child
    }
}
