import Sentry

/// The parts of an OCI runtime-spec config.json that Moat honours. Decoding
/// refuses anything else it would otherwise have to ignore.
public struct Spec: Equatable, Sendable {
    public struct User: Equatable, Sendable {
        public var uid: UInt32 = 0
        public var gid: UInt32 = 0
        public var additionalGids: [UInt32] = []
        public var umask: UInt32?
    }

    public struct Rlimit: Equatable, Sendable {
        public var type: String
        public var resource: Int32
        public var soft: UInt64
        public var hard: UInt64
    }

    public struct Capabilities: Equatable, Sendable {
        public var bounding: [String] = []
        public var effective: [String] = []
        public var permitted: [String] = []
        public var inheritable: [String] = []
        public var ambient: [String] = []
    }

    public struct Process: Equatable, Sendable {
        public var args: [String] = []
        public var env: [String] = []
        public var cwd = "/"
        public var user = User()
        public var capabilities = Capabilities()
        public var rlimits: [Rlimit] = []
        public var noNewPrivileges = true
        public var terminal = false
        public var consoleSize: (rows: UInt16, columns: UInt16)?
        public var oomScoreAdj: Int32?

        public static func == (a: Process, b: Process) -> Bool {
            a.args == b.args && a.env == b.env && a.cwd == b.cwd && a.user == b.user
                && a.capabilities == b.capabilities && a.rlimits == b.rlimits
                && a.noNewPrivileges == b.noNewPrivileges && a.terminal == b.terminal && a.oomScoreAdj == b.oomScoreAdj
        }
    }

    public struct Mount: Equatable, Sendable {
        public var destination: String
        public var type: String
        public var source: String
        public var options: [String]
    }

    /// linux.devices[i]: a node to make in the container's root.
    public struct Device: Equatable, Sendable {
        public var path: String
        public var mode: UInt32  // file type | permission bits
        public var major: UInt32, minor: UInt32
        public var uid: UInt32, gid: UInt32
    }

    public struct Namespace: Equatable, Sendable {
        public var type: String
        /// An existing namespace to join (network, ipc, uts, cgroup, pid), as engines pass it.
        public var path: String? = nil
    }

    /// linux.uidMappings / gidMappings: `size` ids from `containerID` inside are `hostID`... outside.
    public struct IDMapping: Equatable, Sendable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
    }

    public var ociVersion: String
    public var process: Process
    public var rootPath: String
    public var rootReadonly: Bool
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]
    public var namespaces: [Namespace]
    public var maskedPaths: [String]
    public var readonlyPaths: [String]
    public var monotonicOffset: Int64
    public var boottimeOffset: Int64
    public var annotations: [(String, String)]
    /// linux.sysctl, only keys of namespaces the sandbox owns (as runc allows).
    public var sysctls: [(String, String)] = []
    /// linux.resources and linux.cgroupsPath.
    public var resources = Resources()
    public var pidsLimit: Int64? { resources.pidsLimit }
    public var memoryLimit: Int64? { resources.memoryLimit }
    public struct CPU: Equatable, Sendable {
        public var shares: UInt64?
        public var quota: Int64?
        public var period: UInt64?
    }
    public var cpu: CPU? { resources.cpu }
    public var cgroupsPath: String? = nil
    /// With a user namespace: its id maps.
    public var uidMappings: [IDMapping] = []
    public var gidMappings: [IDMapping] = []
    /// linux.seccomp, loaded after Moat's own filter.
    public var seccomp: SeccompProfile? = nil
    public var hooks = Hooks()
    /// linux.devices.
    public var devices: [Device] = []
    /// linux.rootfsPropagation ("" when unset).
    public var rootfsPropagation = ""

    public static func == (a: Spec, b: Spec) -> Bool {
        a.ociVersion == b.ociVersion && a.process == b.process && a.rootPath == b.rootPath
            && a.rootReadonly == b.rootReadonly && a.hostname == b.hostname && a.mounts == b.mounts
            && a.namespaces == b.namespaces && a.maskedPaths == b.maskedPaths
            && a.readonlyPaths == b.readonlyPaths && a.annotations.map(\.0) == b.annotations.map(\.0)
            && a.annotations.map(\.1) == b.annotations.map(\.1)
    }

    public func annotation(_ key: String) -> String? { annotations.last { $0.0 == key }?.1 }

    /// At most 340 lines (the kernel's limit), each within 32-bit ids, no empty range.
    static func idMappings(_ field: Field) throws(ConfigError) -> [IDMapping] {
        var mappings: [IDMapping] = []
        for item in try field.items() {
            try item.only(["containerID", "hostID", "size"])
            let mapping = IDMapping(
                containerID: try item["containerID"].unsigned(UInt32.self),
                hostID: try item["hostID"].unsigned(UInt32.self), size: try item["size"].unsigned(UInt32.self))
            guard mapping.size > 0, UInt64(mapping.containerID) + UInt64(mapping.size) <= 1 << 32,
                UInt64(mapping.hostID) + UInt64(mapping.size) <= 1 << 32
            else {
                throw item["size"].error("must be positive and keep the ids within 32 bits")
            }
            mappings.append(mapping)
        }
        guard mappings.count <= 340 else { throw field.error("has more than 340 lines") }
        return mappings
    }

    static let rlimitNumbers: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15
    ]

    public static let capabilityNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"
    ]

    /// Namespaces a container may have, each new or joined by path. A joined
    /// pid namespace's other processes are the kernel's to find (see
    /// `Kernel.sharesPidNamespace`), a joined user namespace's maps are read
    /// from it, and in a joined mount namespace the root is set up and
    /// pivoted into as in a new one (as runc does: its other processes' root moves too).
    public static let supportedNamespaces: Set<String> = ["pid", "mount", "ipc", "uts", "network", "cgroup", "user"]
    static let mountTypes: Set<String> = ["bind", "proc", "tmpfs", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"]

    /// Decodes and validates config.json.
    public static func decode(_ json: JSON) throws(ConfigError) -> Spec {
        let root = Field(path: "", value: json)
        guard case .object? = root.value else { throw ConfigError("config.json: must be a JSON object") }
        try root.only([
            "ociVersion", "process", "root", "hostname", "domainname", "mounts", "linux",
            "annotations", "hooks"
        ])
        let version = try root["ociVersion"].string()
        guard version.hasPrefix("1.") else { throw root["ociVersion"].error("\(version) is not a 1.x runtime-spec version") }

        let process = try decodeProcess(root["process"])
        let rootField = root["root"]
        try rootField.only(["path", "readonly"])
        let rootPath = try rootField["path"].string()
        if rootPath.isEmpty { throw rootField["path"].error("must not be empty") }

        var mounts: [Mount] = []
        for item in try root["mounts"].items() {
            try item.only(["destination", "type", "source", "options"])
            let destination = try item["destination"].string()
            guard destination.hasPrefix("/") else { throw item["destination"].error("must be an absolute path") }
            let options = try item["options"].strings()
            var type = try item["type"].optionalString() ?? ""
            if options.contains("bind") || options.contains("rbind") { type = "bind" }
            guard mountTypes.contains(type) else {
                throw item["type"].error(type.isEmpty ? "is required (or a bind option)" : "\(type) mounts are not supported yet")
            }
            let source = try item["source"].optionalString() ?? type
            if type == "bind" && source.isEmpty { throw item["source"].error("is required for a bind mount") }
            mounts.append(Mount(destination: destination, type: type, source: source, options: options))
        }

        let linux = root["linux"]
        try linux.only([
            "namespaces", "maskedPaths", "readonlyPaths", "timeOffsets", "resources",
            "cgroupsPath", "rootfsPropagation", "uidMappings", "gidMappings", "sysctl",
            "seccomp", "devices"
        ])
        var devices: [Device] = []
        for item in try linux["devices"].items() {
            try item.only(["path", "type", "major", "minor", "fileMode", "uid", "gid"])
            let path = try item["path"].string()
            guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { throw item["path"].error("must be an absolute path") }
            let type = try item["type"].string()
            let kinds: [String: UInt32] = ["c": 0o020000, "u": 0o020000, "b": 0o060000, "p": 0o010000]  // S_IFCHR, S_IFBLK, S_IFIFO
            guard let kind = kinds[type] else { throw item["type"].error("must be c, u, b or p") }
            let numbered = type != "p"
            let major = numbered ? try item["major"].unsigned(UInt32.self) : 0
            let minor = numbered ? try item["minor"].unsigned(UInt32.self) : 0
            let mode = item["fileMode"].isPresent ? try item["fileMode"].unsigned(UInt32.self) : 0o666
            guard mode <= 0o7777 else { throw item["fileMode"].error("must be permission bits (at most 07777)") }
            devices.append(
                Device(
                    path: path, mode: kind | mode, major: major, minor: minor,
                    uid: item["uid"].isPresent ? try item["uid"].unsigned(UInt32.self) : 0,
                    gid: item["gid"].isPresent ? try item["gid"].unsigned(UInt32.self) : 0))
        }
        let rootfsPropagation = try linux["rootfsPropagation"].optionalString() ?? ""
        guard rootfsPropagation.isEmpty || MountOptions.propagation[rootfsPropagation] != nil else {
            throw linux["rootfsPropagation"].error("unknown propagation \(rootfsPropagation)")
        }
        let resources = try checkResources(linux["resources"])
        let cgroupsPath = try linux["cgroupsPath"].optionalString()
        if let path = cgroupsPath, path.contains(":"), systemdCgroupPath(path) == nil {
            throw linux["cgroupsPath"].error("systemd's form is slice:prefix:name (a slice like a-b.slice)")
        }
        var namespaces: [Namespace] = []
        for item in try linux["namespaces"].items() {
            try item.only(["type", "path"])
            let type = try item["type"].string()
            guard supportedNamespaces.contains(type) else {
                throw item["type"].error("\(type) namespaces are not supported yet")
            }
            let path = try item["path"].optionalString().flatMap { $0.isEmpty ? nil : $0 }
            if let path {
                guard path.hasPrefix("/") else { throw item["path"].error("must be an absolute path") }
            }
            if namespaces.contains(where: { $0.type == type }) { throw item["type"].error("\(type) is listed twice") }
            namespaces.append(Namespace(type: type, path: path))
        }
        let uidMappings = try idMappings(linux["uidMappings"])
        let gidMappings = try idMappings(linux["gidMappings"])
        let hasUserNamespace = namespaces.contains { $0.type == "user" }
        if namespaces.contains(where: { $0.type == "user" && $0.path != nil }) {
            guard uidMappings.isEmpty && gidMappings.isEmpty else {
                throw linux["uidMappings"].error("a joined user namespace brings its own maps")
            }
        } else if hasUserNamespace && (uidMappings.isEmpty || gidMappings.isEmpty) {
            throw linux["uidMappings"].error("a user namespace needs uidMappings and gidMappings")
        }
        if !hasUserNamespace && (!uidMappings.isEmpty || !gidMappings.isEmpty) {
            throw linux["uidMappings"].error("needs a user namespace in linux.namespaces")
        }
        var sysctls: [(String, String)] = []
        for key in try linux["sysctl"].keys() {
            let value = try linux["sysctl"][key].string()
            guard let namespace = Spec.sysctlNamespace(key) else {
                throw linux["sysctl"][key].error("only sysctls of the sandbox's own namespaces can be set")
            }
            guard namespaces.contains(where: { $0.type == namespace }) else {
                throw linux["sysctl"][key].error("needs \(namespace == "ipc" ? "an" : "a") \(namespace) namespace in linux.namespaces")
            }
            guard !key.contains("/") && !key.contains("..") && !value.contains("\n") else {
                throw linux["sysctl"][key].error("malformed")
            }
            sysctls.append((key, value))
        }
        let offsets = linux["timeOffsets"]
        try offsets.only(["monotonic", "boottime"])

        var annotations: [(String, String)] = []
        for key in try root["annotations"].keys() {
            annotations.append((key, try root["annotations"][key].string()))
        }

        return Spec(
            ociVersion: version, process: process, rootPath: rootPath,
            rootReadonly: try rootField["readonly"].bool(default: false),
            hostname: try name(root["hostname"]), domainname: try name(root["domainname"]),
            mounts: mounts, namespaces: namespaces,
            maskedPaths: try absolutePaths(linux["maskedPaths"]), readonlyPaths: try absolutePaths(linux["readonlyPaths"]),
            monotonicOffset: try timeOffset(offsets["monotonic"]), boottimeOffset: try timeOffset(offsets["boottime"]),
            annotations: annotations, sysctls: sysctls, resources: resources, cgroupsPath: cgroupsPath,
            uidMappings: uidMappings, gidMappings: gidMappings,
            seccomp: try SeccompProfile.decode(linux["seccomp"]), hooks: try Hooks.decode(root["hooks"]), devices: devices,
            rootfsPropagation: rootfsPropagation)
    }

    static func decodeProcess(_ field: Field) throws(ConfigError) -> Process {
        guard field.isPresent else { throw field.error("is required") }
        try field.only([
            "terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities", "rlimits",
            "noNewPrivileges", "apparmorProfile", "selinuxLabel", "oomScoreAdj"
        ])
        for key in ["apparmorProfile", "selinuxLabel"] where field[key].isNonEmpty {
            throw field[key].error("is not supported (Moat does not use LSMs)")
        }
        var process = Process()
        process.terminal = try field["terminal"].bool(default: false)
        let size = field["consoleSize"]
        try size.only(["height", "width"])
        if size.isPresent {
            process.consoleSize = (try size["height"].unsigned(UInt16.self), try size["width"].unsigned(UInt16.self))
        }
        process.args = try field["args"].strings()
        if process.args.isEmpty { throw field["args"].error("must name a program") }
        process.env = try field["env"].strings()
        for (index, pair) in process.env.enumerated() where pair.firstIndex(of: "=").map({ $0 == pair.startIndex }) ?? true {
            throw Field(path: "\(field["env"].path)[\(index)]", value: nil).error("must be KEY=VALUE")
        }
        // What execve takes: each string at most MAX_ARG_STRLEN, all of them
        // (with their pointers) within the usual 2 MiB (a quarter of an 8 MiB stack).
        for (key, list) in [("args", process.args), ("env", process.env)] {
            if let index = list.firstIndex(where: { $0.utf8.count >= 131_072 }) {
                throw Field(path: "\(field[key].path)[\(index)]", value: nil).error("is longer than execve takes (128 KiB)")
            }
        }
        let total = (process.args + process.env).reduce(0) { $0 + $1.utf8.count + 1 + 8 }
        if total > 2 << 20 {
            throw field["env"].error("\(total) bytes with process.args, more than execve takes (2 MiB)")
        }
        process.cwd = try field["cwd"].optionalString() ?? "/"
        guard process.cwd.hasPrefix("/") else { throw field["cwd"].error("must be an absolute path") }
        // The runtime-spec's default is false (Docker omits it; setuid programs then work).
        process.noNewPrivileges = try field["noNewPrivileges"].bool(default: false)
        if field["oomScoreAdj"].isPresent {
            let value = try field["oomScoreAdj"].signed()
            guard (-1000...1000).contains(value) else { throw field["oomScoreAdj"].error("must be from -1000 to 1000") }
            process.oomScoreAdj = Int32(value)
        }

        let user = field["user"]
        try user.only(["uid", "gid", "additionalGids", "umask"])
        if user.isPresent {
            process.user.uid = try user["uid"].unsigned(UInt32.self)
            process.user.gid = try user["gid"].unsigned(UInt32.self)
            for gid in try user["additionalGids"].items() { process.user.additionalGids.append(try gid.unsigned(UInt32.self)) }
            if user["umask"].isPresent {
                let mask = try user["umask"].unsigned(UInt32.self)
                guard mask <= 0o777 else { throw user["umask"].error("must be at most 0777") }
                process.user.umask = mask
            }
        }

        let caps = field["capabilities"]
        try caps.only(["bounding", "effective", "permitted", "inheritable", "ambient"])
        func names(_ key: String) throws(ConfigError) -> [String] {
            let list = try caps[key].strings()
            for (i, name) in list.enumerated() where !capabilityNames.contains(name) {
                throw Field(path: "\(caps[key].path)[\(i)]", value: nil).error("unknown capability \(name)")
            }
            return list
        }
        process.capabilities = Capabilities(
            bounding: try names("bounding"), effective: try names("effective"), permitted: try names("permitted"),
            inheritable: try names("inheritable"), ambient: try names("ambient"))

        for item in try field["rlimits"].items() {
            try item.only(["type", "soft", "hard"])
            let type = try item["type"].string()
            guard let resource = rlimitNumbers[type] else { throw item["type"].error("unknown rlimit \(type)") }
            if process.rlimits.contains(where: { $0.type == type }) { throw item["type"].error("\(type) is given twice") }
            let soft = try item["soft"].unsigned(UInt64.self)
            let hard = try item["hard"].unsigned(UInt64.self)
            guard soft <= hard else { throw item["soft"].error("is above the hard limit") }
            process.rlimits.append(Rlimit(type: type, resource: resource, soft: soft, hard: hard))
        }
        return process
    }

    /// A host or domain name: what sethostname takes (64 bytes).
    static func name(_ field: Field) throws(ConfigError) -> String? {
        let value = try field.optionalString()
        if let value, value.utf8.count > 64 { throw field.error("is longer than 64 bytes") }
        return value
    }

    static func absolutePaths(_ field: Field) throws(ConfigError) -> [String] {
        let paths = try field.strings()
        if let index = paths.firstIndex(where: { !$0.hasPrefix("/") }) {
            throw Field(path: "\(field.path)[\(index)]", value: nil).error("must be an absolute path")
        }
        return paths
    }

    /// Systemd's "slice:prefix:name" as the cgroupfs path of its unit, as
    /// runc's systemd driver names it: the slice expanded into its parents
    /// ("a-b.slice" is /a.slice/a-b.slice; none is system.slice), then the
    /// scope "prefix-name.scope" (a name that is a slice is used as it is, under the slice, as runc does).
    /// nil when it is not of that form.
    static func systemdCgroupPath(_ path: String) -> String? {
        let parts = path.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[2].isEmpty else { return nil }
        func expand(_ slice: String) -> String? {
            guard slice.hasSuffix(".slice"), !slice.contains("/") else { return nil }
            let name = String(slice.dropLast(6))
            if name == "-" { return "" }
            guard !name.isEmpty, !name.hasPrefix("-"), !name.hasSuffix("-"), !name.contains("--") else { return nil }
            var prefix = ""
            var expanded = ""
            for component in name.split(separator: "-") {
                prefix += (prefix.isEmpty ? "" : "-") + component
                expanded += "/" + prefix + ".slice"
            }
            return expanded
        }
        guard let slice = expand(parts[0].isEmpty ? "system.slice" : parts[0]) else { return nil }
        guard !parts[2].contains("/") && !parts[1].contains("/") && parts[2] != ".." else { return nil }
        return slice + "/" + (parts[2].hasSuffix(".slice") ? parts[2] : (parts[1].isEmpty ? "" : parts[1] + "-") + parts[2] + ".scope")
    }

    /// The namespace a sysctl belongs to, or nil when it is the host's.
    static func sysctlNamespace(_ key: String) -> String? {
        if key.hasPrefix("net.") { return "network" }
        if key.hasPrefix("fs.mqueue.") { return "ipc" }
        if [
            "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
            "kernel.shmmni", "kernel.shm_rmid_forced"
        ].contains(key) {
            return "ipc"
        }
        if ["kernel.hostname", "kernel.domainname"].contains(key) { return "uts" }
        return nil
    }

    /// pids and memory limits; device rules (see below); nothing else yet.
    /// linux.resources: what cgroups enforce. Values that change nothing
    /// (Docker always sends memory.disableOOMKiller false, blockIO.weight 0,
    /// cpu.shares 0) are accepted; what this host cannot enforce is refused
    /// with the field's name.
    public struct Resources: Equatable, Sendable {
        public var pidsLimit: Int64?
        public var memoryLimit: Int64?
        public var memoryReservation: Int64?
        /// Memory plus swap (-1: unlimited).
        public var memorySwap: Int64?
        public var disableOOMKiller = false
        public var cpu: CPU?
        public var blockIOWeight: UInt16?
        /// cpu.cpus and cpu.mems: the cpuset the container may use.
        public var cpus: String?
        public var mems: String?
        /// linux.resources.devices, in order.
        public var devices: [DeviceRule] = []
    }

    /// A runtime-spec LinuxResources object on its own (`moat update --resources`).
    public static func decodeResources(_ json: JSON, path: String) throws(ConfigError) -> Resources {
        let field = Field(path: path, value: json)
        guard case .object = json else { throw field.error("must be an object") }
        return try checkResources(field)
    }

    static func checkResources(_ field: Field) throws(ConfigError) -> Resources {
        var resources = Resources()
        for key in try field.keys() {
            let value = field[key]
            switch key {
            case "cpu":
                for other in try value.keys() where !["shares", "quota", "period", "cpus", "mems"].contains(other) && value[other].changesSomething {
                    throw value[other].error("is not supported yet (only shares, quota, period, cpus and mems)")
                }
                for key in ["cpus", "mems"] {
                    guard let list = try value[key].optionalString(), !list.isEmpty else { continue }
                    // A cpuset list: "0-3,5".
                    guard list.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "," }) else { throw value[key].error("must be a list like 0-3,5") }
                    if key == "cpus" { resources.cpus = list } else { resources.mems = list }
                }
                let shares = value["shares"].isPresent ? try value["shares"].unsigned(UInt64.self) : 0
                let quota = value["quota"].isPresent ? try value["quota"].signed() : 0
                let period = value["period"].isPresent ? try value["period"].unsigned(UInt64.self) : 0
                let limits = CPU(shares: shares > 0 ? shares : nil, quota: quota != 0 ? quota : nil, period: period > 0 ? period : nil)
                if limits.shares != nil || limits.quota != nil || limits.period != nil { resources.cpu = limits }
            case "memory":
                try checkMemory(value, into: &resources)
            case "pids":
                try value.only(["limit"])
                let limit = try value["limit"].signed()
                resources.pidsLimit = limit > 0 ? limit : nil  // 0 or -1: unlimited
            case "blockIO":
                try value.only([
                    "weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                    "throttleReadIOPSDevice", "throttleWriteIOPSDevice"
                ])
                for list in [
                    "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                    "throttleWriteIOPSDevice"
                ] where value[list].isNonEmpty {
                    throw value[list].error("is not supported yet (only blockIO.weight)")
                }
                if value["leafWeight"].isPresent, try value["leafWeight"].unsigned(UInt16.self) != 0 {
                    throw value["leafWeight"].error("is not supported (cgroups no longer have leaf weights)")
                }
                let weight = value["weight"].isPresent ? try value["weight"].unsigned(UInt16.self) : 0
                guard weight == 0 || (10...1000).contains(weight) else { throw value["weight"].error("must be from 10 to 1000") }
                resources.blockIOWeight = weight == 0 ? nil : weight
            case "devices":
                // The sentry applies them to every device node it opens (runc's device
                // cgroup, without one): the image may ship nodes of the host's devices.
                for rule in try value.items() { resources.devices.append(try deviceRule(rule)) }
            default:
                if value.isNonEmpty { throw value.error("resource limits are not supported yet") }
            }
        }
        return resources
    }

    /// One linux.resources.devices entry: type a, c or b (a when absent), major
    /// and minor (absent or -1: all), access of r, w and m (all when absent).
    static func deviceRule(_ rule: Field) throws(ConfigError) -> DeviceRule {
        try rule.only(["allow", "type", "major", "minor", "access"])
        let kinds: [String: DeviceRule.Kind] = ["a": .all, "c": .char, "b": .block]
        let type = try rule["type"].optionalString() ?? "a"
        guard let kind = kinds[type] else { throw rule["type"].error("must be a, c or b") }
        func number(_ key: String) throws(ConfigError) -> UInt32? {
            guard rule[key].isPresent else { return nil }
            let n = try rule[key].signed()
            if n == -1 { return nil }
            guard let value = UInt32(exactly: n) else { throw rule[key].error("must be -1 or a device number") }
            return value
        }
        let access = try rule["access"].optionalString() ?? "rwm"
        guard access.allSatisfy({ "rwm".contains($0) }) else { throw rule["access"].error("must be made of r, w and m") }
        return DeviceRule(
            allow: try rule["allow"].bool(default: false), kind: kind, major: try number("major"), minor: try number("minor"),
            access: access.isEmpty ? "rwm" : access)
    }

    /// linux.resources.memory: limit, reservation, swap (memory plus swap, at
    /// least the limit; -1 unlimited) and disableOOMKiller.
    static func checkMemory(_ value: Field, into resources: inout Resources) throws(ConfigError) {
        try value.only([
            "limit", "reservation", "swap", "disableOOMKiller", "kernel", "kernelTCP", "swappiness",
            "useHierarchy", "checkBeforeUpdate"
        ])
        // Zeros change nothing (docker update sends every field, most of them 0).
        for other in ["kernel", "kernelTCP", "swappiness"] where value[other].changesSomething {
            throw value[other].error("is not supported yet (only limit, reservation, swap and disableOOMKiller)")
        }
        let hierarchical = try value["useHierarchy"].bool(default: true)
        let checked = try value["checkBeforeUpdate"].bool(default: false)
        if !hierarchical || checked {
            throw value[hierarchical ? "checkBeforeUpdate" : "useHierarchy"].error("is not supported (its default is)")
        }
        func positive(_ key: String) throws(ConfigError) -> Int64? {
            guard value[key].isPresent else { return nil }
            let bytes = try value[key].signed()
            return bytes > 0 ? bytes : nil  // 0 or -1: no limit
        }
        resources.memoryLimit = try positive("limit")
        resources.memoryReservation = try positive("reservation")
        if value["swap"].isPresent {
            let swap = try value["swap"].signed()
            if swap > 0 {
                guard let limit = resources.memoryLimit else { throw value["swap"].error("needs memory.limit") }
                guard swap >= limit else { throw value["swap"].error("must be at least memory.limit (it counts memory plus swap)") }
                resources.memorySwap = swap
            } else if swap < 0 && resources.memoryLimit != nil {
                resources.memorySwap = -1
            }
        }
        resources.disableOOMKiller = try value["disableOOMKiller"].bool(default: false)
    }

    static func timeOffset(_ field: Field) throws(ConfigError) -> Int64 {
        guard field.isPresent else { return 0 }
        try field.only(["secs", "nanosecs"])
        let seconds = field["secs"].isPresent ? try field["secs"].signed() : 0
        let nanos = field["nanosecs"].isPresent ? try field["nanosecs"].signed() : 0
        guard (0..<1_000_000_000).contains(nanos) else { throw field["nanosecs"].error("must be below 1000000000") }
        return seconds * 1_000_000_000 + nanos
    }
}
