import Platform

/// A config's own linux.seccomp profile. Moat's table still decides what
/// the sentry serves; the profile is loaded as a second filter after Moat's,
/// so it can refuse more but never allow what Moat refuses.
public struct SeccompProfile: Equatable, Sendable {
    public var defaultAction: UInt32
    public var rules: [Rule]

    public struct Rule: Equatable, Sendable {
        public var names: [String]
        public var action: UInt32
        public var args: [Arg]
    }

    public struct Arg: Equatable, Sendable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64
        public var op: UInt32
    }

    static let operators: [String: UInt32] = [
        "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
        "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7
    ]

    /// The actions `action` takes (what `moat features` lists).
    public static let actionNames = [
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG"
    ]
    public static var operatorNames: [String] { operators.keys.sorted() }

    static func action(_ field: Field, errno errnoField: Field, defaultErrno: UInt32) throws(ConfigError) -> UInt32 {
        let name = try field.string()
        switch name {
        case "SCMP_ACT_ALLOW": return SeccompReturn.allow
        case "SCMP_ACT_ERRNO":
            let value = errnoField.isPresent ? try errnoField.unsigned(UInt32.self) : defaultErrno
            return SeccompReturn.errno | (value & SeccompReturn.dataMask)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return SeccompReturn.killThread
        case "SCMP_ACT_KILL_PROCESS": return SeccompReturn.killProcess
        case "SCMP_ACT_TRAP": return SeccompReturn.trap
        case "SCMP_ACT_LOG": return 0x7FFC_0000
        default: throw field.error("\(name) is not supported (Moat's own filter traces and notifies)")
        }
    }

    static func decode(_ field: Field) throws(ConfigError) -> SeccompProfile? {
        guard field.isNonEmpty else { return nil }
        try field.only(
            ["defaultAction", "defaultErrnoRet", "architectures", "flags", "syscalls"],
            because: "is not supported in linux.seccomp")
        let defaultAction = try action(field["defaultAction"], errno: field["defaultErrnoRet"], defaultErrno: 1)
        var rules: [Rule] = []
        for item in try field["syscalls"].items() {
            try item.only(["names", "action", "errnoRet", "args", "comment", "includes", "excludes"])
            for key in ["includes", "excludes"] where item[key].isNonEmpty {
                throw item[key].error("is a Docker profile field; give the resolved runtime-spec profile")
            }
            var args: [Arg] = []
            for arg in try item["args"].items() {
                try arg.only(["index", "value", "valueTwo", "op"])
                let opName = try arg["op"].string()
                guard let op = operators[opName] else { throw arg["op"].error("unknown operator \(opName)") }
                let index = try arg["index"].unsigned(UInt32.self)
                guard index < 6 else { throw arg["index"].error("must be below 6") }
                args.append(
                    Arg(
                        index: index, value: try arg["value"].unsigned(UInt64.self),
                        valueTwo: arg["valueTwo"].isPresent ? try arg["valueTwo"].unsigned(UInt64.self) : 0, op: op))
            }
            rules.append(
                Rule(
                    names: try item["names"].strings(),
                    action: try action(item["action"], errno: item["errnoRet"], defaultErrno: 1),
                    args: args))
        }
        return SeccompProfile(defaultAction: defaultAction, rules: rules)
    }

    /// The BPF program. Names the x86_64 table does not know (other
    /// architectures' calls such as _llseek) are skipped.
    public func program() throws(ConfigError) -> SeccompProgram {
        var profile: [SeccompProgram.ProfileRule] = []
        for rule in rules {
            for name in rule.names {
                guard let number = SyscallNames.number(of: name) else { continue }
                profile.append(
                    SeccompProgram.ProfileRule(
                        number: number, action: rule.action,
                        conditions: rule.args.map { (index: $0.index, op: $0.op, value: $0.value, valueTwo: $0.valueTwo) }))
            }
        }
        do { return try SeccompProgram.build(defaultAction: defaultAction, profile: profile) } catch {
            throw ConfigError("linux.seccomp: libseccomp refused the profile: \(error)")
        }
    }
}
