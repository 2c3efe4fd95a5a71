import Glibc

/// What a container's supervisor and the commands that reach it say over
/// its control socket, encoded and decoded here for both ends: one request
/// per connection (`start`, or `exec` with the caller's stdio as fds),
/// answered by reply lines. The supervisor decodes what any local root
/// process may have sent: anything else is refused, never half-applied.
public enum ControlRequest: Equatable, Sendable {
    /// `moat start`: let the created workload run.
    case start
    /// `moat exec`: a new process in the running container.
    case exec(ExecRequest)

    public var encoded: String {
        switch self {
        case .start: "start\n"
        case .exec(let request): request.encoded
        }
    }

    public static func decode(_ text: String) throws(ConfigError) -> ControlRequest {
        if text == "start\n" { return .start }
        if ExecRequest.isRequest(text) { return .exec(try ExecRequest.decode(text)) }
        throw ConfigError("control socket: not a request (start or exec)")
    }
}

/// The supervisor's answers, one line each.
public enum ControlReply: Equatable, Sendable {
    /// start: the workload may run.
    case ok
    /// exec: the process runs, with this (host) pid.
    case started(pid_t)
    /// A refusal or failure, one line.
    case error(String)
    /// exec: the process ended with this status (128+N: killed by signal N).
    case exit(Int32)

    /// One line; an error's newlines become spaces so it stays one.
    public var encoded: String {
        switch self {
        case .ok: "ok\n"
        case .started(let pid): "started \(pid)\n"
        case .error(let why): "error " + why.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) } + "\n"
        case .exit(let code): "exit \(code)\n"
        }
    }

    /// A line as `ControlSocket.readLine` returns it (without its newline);
    /// nil for anything else.
    public static func decode(_ line: String) -> ControlReply? {
        if line == "ok" { return .ok }
        guard let space = line.firstIndex(of: " ") else { return nil }
        let word = line[..<space]
        let rest = String(line[line.index(after: space)...])
        switch word {
        case "started": return pid_t(rest).flatMap { $0 > 0 ? .started($0) : nil }
        case "error": return .error(rest)
        case "exit": return Int32(rest).map { .exit($0) }
        default: return nil
        }
    }
}
