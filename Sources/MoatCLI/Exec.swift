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
        options: [rootOption, process, cwd, env, user, detach, pidFile, tty, consoleSocket],
        positionals: [idArgument, .init(name: "command", help: "The command and its arguments.", rest: true)])
    static let process = OptionKey("process", short: "p", value: "file", help: "A runtime-spec process JSON (args, env, cwd, user).")
    static let cwd = OptionKey("cwd", value: "dir", help: "Working directory (default: the container's).")
    static let env = OptionKey("env", short: "e", repeatedValue: "KEY=VALUE", help: "Set an environment variable (repeatable).")
    static let user = OptionKey("user", short: "u", value: "uid[:gid]", help: "Run as this user (default: the container's).")
    static let detach = OptionKey(flag: "detach", short: "d", help: "Return once the process runs.")
    static let pidFile = OptionKey("pid-file", value: "file", help: "Write the pid to wait for here.")
    static let tty = OptionKey(flag: "tty", short: "t", help: "A terminal: a pty whose master goes to --console-socket.")
    static let consoleSocket = OptionKey(
        "console-socket", value: "path", help: "With --tty: where to send the pty master (runc's protocol).")

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let info = try container(arguments)
        var request = ExecRequest()
        if let file = arguments[process] {
            guard let bytes = HostFile.read(file) else { throw Failure("--process \(file): cannot be read", code: 1) }
            do {
                let json: JSON
                do { json = try JSON.parse(bytes) } catch { throw ConfigError("--process \(file): malformed JSON: \(error)") }
                try request.merge(process: json, path: "--process \(file)")
            } catch { throw Failure("\(error)", code: 1) }
        }
        let args = Array(arguments.positionals.dropFirst())
        if !args.isEmpty { request.args = args }
        if let cwd = arguments[cwd] {
            guard cwd.hasPrefix("/") else { throw Failure("--cwd: must be an absolute path", code: 2) }
            request.cwd = cwd
        }
        let env = arguments[env]
        if !env.isEmpty {
            guard env.allSatisfy({ ($0.firstIndex(of: "=") ?? $0.startIndex) != $0.startIndex }) else {
                throw Failure("--env: give KEY=VALUE", code: 2)
            }
            request.extraEnv = env
        }
        if let user = arguments[user] {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false).map { UInt32($0) }
            guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil }) else {
                throw Failure("--user: give numeric uid[:gid]", code: 2)
            }
            request.uid = parts[0]
            if parts.count == 2 { request.gid = parts[1] }
        }
        guard !request.args.isEmpty else { throw Failure("exec: name a command", code: 2) }
        guard info.status.mayExec else { throw Failure("container \(info.id) is \(info.status), not running", code: 1) }
        // A terminal: the process gets a pty of the sandbox's devpts and the
        // console socket its master, as runc does. Without one, this command
        // receives the master itself and relays it to its own terminal.
        var fds: [Int32] = [0, 1, 2]
        var relay: ConsoleRelay?
        if arguments[tty] { request.terminal = true }
        switch (request.terminal, arguments[consoleSocket]) {
        case (true, let path?):
            do { fds.append(try ControlSocket.connect(path)) } catch {
                throw Failure("--console-socket \(path): \(error)", code: 1)
            }
        case (true, nil) where arguments[detach]:
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
        let session: ExecSession
        do { session = try info.exec(request, stdio: Array(fds.prefix(3)), console: fds.count > 3 ? fds[3] : nil) } catch {
            if fds.count > 3 { close(fds[3]) }
            throw Failure("\(error)", code: 1)
        }
        if fds.count > 3 { close(fds[3]) }
        if arguments[detach] {
            let waiter = try detachWaiter(session)
            if let pidFile = arguments[pidFile] { try writePidFile(pidFile, waiter) }
            return 0
        }
        if let pidFile = arguments[pidFile] { try writePidFile(pidFile, getpid()) }
        do { try relay?.start() } catch { report("\(error)") }
        let code = session.waitForExit(report: { report($0) })
        relay?.finish()
        return code
    }

    /// A child that waits for the exec'd process and exits with its status.
    static func detachWaiter(_ session: ExecSession) throws -> pid_t {
        let outcome: SupervisorProcess.Outcome
        do {
            outcome = try SupervisorProcess.fork(keeping: [session.connection]) { signalReady in
                let null = open("/dev/null", O_RDWR)
                for fd: Int32 in 0...2 { dup2(null, fd) }
                signalReady()
                exit(session.waitForExit(report: { _ in }))
            }
        } catch { throw Failure("exec: \(error)", code: 1) }
        guard case .ready(let pid) = outcome else { throw Failure("exec: the waiter failed", code: 1) }
        return pid
    }
}
