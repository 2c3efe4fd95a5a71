/// What `moat exec` asks a running container's supervisor for, and the one
/// encoding both ends use: the line `exec <JSON>` on the control socket,
/// with the caller's stdin, stdout, stderr (and a console socket) passed as
/// fds. The supervisor decodes what any local root process may have sent,
/// so every field is typed and checked; a bad request is refused with one
/// line, never half-applied.
public struct ExecRequest: Equatable, Sendable {
    public struct ConsoleSize: Equatable, Sendable {
        public var rows: UInt16
        public var columns: UInt16
        public init(rows: UInt16, columns: UInt16) { (self.rows, self.columns) = (rows, columns) }
    }

    public var args: [String] = []
    /// Replaces the container's environment (process.env of --process).
    public var env: [String]?
    /// KEY=VALUE pairs set over the environment (--env).
    public var extraEnv: [String] = []
    public var cwd: String?
    public var uid: UInt32?
    public var gid: UInt32?
    /// Replace the container's supplementary groups and umask (user.additionalGids, user.umask).
    public var additionalGids: [UInt32]?
    public var umask: UInt32?
    public var terminal = false
    public var consoleSize: ConsoleSize?

    public init() {}

    static let prefix = "exec "

    /// Whether a control-socket line is an exec request.
    public static func isRequest(_ line: String) -> Bool { line.hasPrefix(prefix) }

    /// The line for the control socket.
    public var encoded: String { ExecRequest.prefix + json.rendered(pretty: false) + "\n" }

    var json: JSON {
        var members: [(String, JSON)] = [("args", .array(args.map { .string($0) }))]
        if let env { members.append(("env", .array(env.map { .string($0) }))) }
        if !extraEnv.isEmpty { members.append(("extraEnv", .array(extraEnv.map { .string($0) }))) }
        if let cwd { members.append(("cwd", .string(cwd))) }
        var user: [(String, JSON)] = []
        if let uid { user.append(("uid", .int(uid))) }
        if let gid { user.append(("gid", .int(gid))) }
        if let additionalGids { user.append(("additionalGids", .array(additionalGids.map { .int($0) }))) }
        if let umask { user.append(("umask", .int(umask))) }
        if !user.isEmpty { members.append(("user", .object(user))) }
        if terminal { members.append(("terminal", .bool(true))) }
        if let consoleSize {
            members.append(("consoleSize", .object([("height", .int(consoleSize.rows)), ("width", .int(consoleSize.columns))])))
        }
        return .object(members)
    }

    /// Decodes a control-socket line (with or without its newline).
    public static func decode(_ line: String) throws(ConfigError) -> ExecRequest {
        guard isRequest(line) else { throw ConfigError("not an exec request") }
        var text = line.dropFirst(prefix.count)
        if text.last == "\n" { text = text.dropLast() }
        let json: JSON
        do { json = try JSON.parse(String(text)) } catch { throw ConfigError("exec request: malformed JSON: \(error)") }
        let field = Field(path: "exec request", value: json)
        guard case .object? = field.value else { throw field.error("must be an object") }
        try field.only(["args", "env", "extraEnv", "cwd", "user", "terminal", "consoleSize"])
        var request = ExecRequest()
        try request.apply(field, allowExtraEnv: true)
        // Nothing to run: the container's own process is not run twice.
        guard !request.args.isEmpty else { throw ConfigError("exec request: args must name a program") }
        return request
    }

    /// Takes the fields of a runtime-spec process JSON (`exec --process FILE`,
    /// as runc's callers write it): args, env, cwd, user, terminal,
    /// consoleSize, typed as the spec types them. What the container's
    /// process already fixed for all its processes (capabilities, rlimits,
    /// noNewPrivileges, the LSM labels Moat does not use) is ignored, as
    /// Docker and containerd repeat it there.
    public mutating func merge(process json: JSON, path: String) throws(ConfigError) {
        let field = Field(path: path, value: json)
        guard case .object? = field.value else { throw field.error("must be a process object") }
        try apply(field, allowExtraEnv: false)
    }

    private mutating func apply(_ field: Field, allowExtraEnv: Bool) throws(ConfigError) {
        if field["args"].isPresent { args = try field["args"].strings() }
        if field["env"].isPresent { env = try Self.pairs(field["env"]) }
        if allowExtraEnv { extraEnv = try Self.pairs(field["extraEnv"]) }
        cwd = try field["cwd"].optionalString() ?? cwd
        if let cwd, !cwd.hasPrefix("/") { throw field["cwd"].error("must be an absolute path") }
        let user = field["user"]
        if user.isPresent { guard case .object? = user.value else { throw user.error("must be an object") } }
        try user.only(["uid", "gid", "additionalGids", "umask", "username"])
        if user["uid"].isPresent { uid = try user["uid"].unsigned(UInt32.self) }
        if user["gid"].isPresent { gid = try user["gid"].unsigned(UInt32.self) }
        if user["additionalGids"].isPresent {
            var gids: [UInt32] = []
            for item in try user["additionalGids"].items() { gids.append(try item.unsigned(UInt32.self)) }
            additionalGids = gids
        }
        if user["umask"].isPresent {
            let mask = try user["umask"].unsigned(UInt32.self)
            guard mask <= 0o777 else { throw user["umask"].error("must be at most 0777") }
            umask = mask
        }
        terminal = try field["terminal"].bool(default: terminal)
        let size = field["consoleSize"]
        if size.isPresent {
            try size.only(["height", "width"])
            consoleSize = ConsoleSize(rows: try size["height"].unsigned(UInt16.self), columns: try size["width"].unsigned(UInt16.self))
        }
    }

    /// A list of KEY=VALUE strings with a non-empty key.
    private static func pairs(_ field: Field) throws(ConfigError) -> [String] {
        let list = try field.strings()
        for (index, pair) in list.enumerated() where pair.firstIndex(of: "=").map({ $0 == pair.startIndex }) ?? true {
            throw Field(path: "\(field.path)[\(index)]", value: nil).error("must be KEY=VALUE")
        }
        return list
    }
}
