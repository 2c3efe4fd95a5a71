import Arguments
import Glibc
import OCI
import Platform
import Sentry

/// `moat exec`: a new process in a running container, joining its
/// namespaces, served by the same sentry (pid table, clocks) as the rest.
enum Exec: Subcommand {
    static let spec = CommandSpec(
        name: "exec", abstract: "Run a new process inside a running container.",
        discussion: """
            The process gets this command's stdin, stdout and stderr, and this command exits
            with its status. With --detach it returns once the process runs; --pid-file then
            names a waiter that exits with that status (what conmon waits for).
            """,
        options: [
            rootOption,
            .init(long: "process", short: "p", value: "file", help: "A runtime-spec process JSON (args, env, cwd, user)."),
            .init(long: "cwd", value: "dir", help: "Working directory (default: the container's)."),
            .init(long: "env", short: "e", value: "KEY=VALUE", help: "Set an environment variable (repeatable)."),
            .init(long: "user", short: "u", value: "uid[:gid]", help: "Run as this user (default: the container's)."),
            .init(long: "detach", short: "d", help: "Return once the process runs."),
            .init(long: "pid-file", value: "file", help: "Write the pid to wait for here."),
            .init(long: "tty", short: "t", help: "A terminal: a pty whose master goes to --console-socket."),
            .init(long: "console-socket", value: "path", help: "With --tty: where to send the pty master (runc's protocol).")
        ],
        positionals: [idArgument, .init(name: "command", help: "The command and its arguments.", rest: true)])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        guard info.status.mayExec else { throw Failure("container \(info.id) is \(info.status), not running", code: 1) }
        var request = ExecRequest()
        if let file = arguments.value("process") {
            guard let bytes = HostFile.read(file) else { throw Failure("--process \(file): cannot be read", code: 1) }
            do {
                let json: JSON
                do { json = try JSON.parse(bytes) } catch { throw ConfigError("--process \(file): malformed JSON: \(error)") }
                try request.merge(process: json, path: "--process \(file)")
            } catch { throw Failure("\(error)", code: 1) }
        }
        let args = Array(arguments.positionals.dropFirst())
        if !args.isEmpty { request.args = args }
        if let cwd = arguments.value("cwd") {
            guard cwd.hasPrefix("/") else { throw Failure("--cwd: must be an absolute path", code: 2) }
            request.cwd = cwd
        }
        if let env = arguments.list("env") {
            guard env.allSatisfy({ ($0.firstIndex(of: "=") ?? $0.startIndex) != $0.startIndex }) else {
                throw Failure("--env: give KEY=VALUE", code: 2)
            }
            request.extraEnv = env
        }
        if let user = arguments.value("user") {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false).map { UInt32($0) }
            guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil }) else {
                throw Failure("--user: give numeric uid[:gid]", code: 2)
            }
            request.uid = parts[0]
            if parts.count == 2 { request.gid = parts[1] }
        }
        guard !request.args.isEmpty else { throw Failure("exec: name a command", code: 2) }
        // A terminal: the process gets a pty of the sandbox's devpts and the
        // console socket its master, as runc does. Without one, this command
        // receives the master itself and relays it to its own terminal.
        var fds: [Int32] = [0, 1, 2]
        var relay: ConsoleRelay?
        if arguments.flag("tty") { request.terminal = true }
        switch (request.terminal, arguments.value("console-socket")) {
        case (true, let path?):
            do { fds.append(try ControlSocket.connect(path)) } catch {
                throw Failure("--console-socket \(path): \(error)", code: 1)
            }
        case (true, nil) where arguments.flag("detach"):
            throw Failure("exec: a detached terminal needs --console-socket", code: 1)
        case (true, nil):
            do {
                let made = try ConsoleRelay.pair()
                relay = made.relay
                fds.append(made.console)
            } catch { throw Failure("\(error)", code: 1) }
        case (false, .some):
            throw Failure("exec: --console-socket needs --tty", code: 1)
        default: break
        }
        let connection: Int32
        do {
            connection = try ControlSocket.send(directory: info.directory, request.encoded, fds: fds)
        } catch { throw Failure("\(error)", code: 1) }
        if fds.count > 3 { close(fds[3]) }
        guard let first = ControlSocket.readLine(connection) else { throw Failure("exec: the supervisor did not answer", code: 1) }
        if first.hasPrefix("error ") { throw Failure(String(first.dropFirst(6)), code: 1) }
        if arguments.flag("detach") {
            let waiter = try detachWaiter(connection)
            if let pidFile = arguments.value("pid-file") { try writePidFile(pidFile, waiter) }
            return 0
        }
        if let pidFile = arguments.value("pid-file") { try writePidFile(pidFile, getpid()) }
        do { try relay?.start() } catch { report("\(error)") }
        let code = waitForExit(connection)
        relay?.finish()
        return code
    }

    /// Reads the supervisor's last words: "error <why>" lines, then "exit <code>".
    static func waitForExit(_ connection: Int32) -> Int32 {
        while let line = ControlSocket.readLine(connection) {
            if line.hasPrefix("error ") { report(String(line.dropFirst(6))) }
            if line.hasPrefix("exit "), let code = Int32(line.dropFirst(5)) { return code }
        }
        return 137  // the supervisor went away: the process was killed with it
    }

    /// A child that waits for the exec'd process and exits with its status.
    static func detachWaiter(_ connection: Int32) throws -> pid_t {
        let outcome: SupervisorProcess.Outcome
        do {
            outcome = try SupervisorProcess.fork(keeping: [connection]) { signalReady in
                let null = open("/dev/null", O_RDWR)
                for fd: Int32 in 0...2 { dup2(null, fd) }
                signalReady()
                exit(waitForExit(connection))
            }
        } catch { throw Failure("exec: \(error)", code: 1) }
        guard case .ready(let pid) = outcome else { throw Failure("exec: the waiter failed", code: 1) }
        return pid
    }
}

/// The supervisor's side of the control socket once the container runs:
/// `exec` requests start a joined process and are answered "started <pid>",
/// then "exit <code>".
func controlHandler(_ control: ControlSocket, _ sandbox: SandboxSpec, program: String) -> (Kernel) -> Void {
    { kernel in
        guard let request = control.accept() else { return }
        defer { request.closeReceivedFDs() }
        let exec: ExecRequest
        do {
            guard (3...4).contains(request.fds.count) else { throw ConfigError("exec: pass stdin, stdout, stderr (and a console)") }
            exec = try ExecRequest.decode(request.text)
        } catch {
            request.reply("error \(error)\n")
            request.finish()
            return
        }
        var child = sandbox.child
        if !exec.args.isEmpty { child.argv = exec.args }
        if let env = exec.env { child.env = env }
        for pair in exec.extraEnv {
            let key = pair.prefix { $0 != "=" }
            child.env.removeAll { $0.hasPrefix(key + "=") }
            child.env.append(pair)
        }
        if let cwd = exec.cwd { child.cwd = cwd }
        if let uid = exec.uid { child.uid = uid }
        if let gid = exec.gid { child.gid = gid }
        if let groups = exec.additionalGids { child.groups = groups }
        if let umask = exec.umask { child.umask = Int32(umask) }
        guard let program = child.argv.first else {
            request.reply("error exec: args must name a program\n")
            request.finish()
            return
        }
        child.executableCandidates = Bundle.executableCandidates(program, env: child.env)
        // With a console socket the process gets a pty; without one, its
        // stdio are the caller's (already a terminal, if it asked for one).
        let console = request.fds.count == 4 ? request.fds[3] : -1
        child.terminal = console >= 0 && exec.terminal
        child.consoleSocket = nil
        child.consoleSize = exec.consoleSize.map { ($0.rows, $0.columns) }
        child.extraFilter = sandbox.child.extraFilter
        child.preservedFDs = 0
        do {
            let pid = try kernel.spawnJoined(child, stdio: Array(request.fds.prefix(3)), console: console) { status in
                if case .failedBeforeExec(let failure) = status {
                    var joined = sandbox
                    joined.child = child
                    request.reply("error " + describe(failure, sandbox: joined, program: program) + "\n")
                }
                request.reply("exit \(status.code)\n")
                request.finish()
            }
            request.reply("started \(pid)\n")
        } catch {
            request.reply("error exec: \(error)\n")
            request.finish()
        }
    }
}
