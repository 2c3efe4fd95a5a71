import Glibc
import Platform
import Sentry

/// An OCI bundle on disk: a directory with config.json and a root filesystem.
public struct Bundle {
    public let directory: String
    public let spec: Spec
    /// The rootfs as an absolute, symlink-free host path.
    public let rootfs: String

    /// Annotation that fixes the sandbox's REALTIME clock at start:
    /// RFC 3339 UTC ("2000-01-01T00:00:00Z") or seconds since the epoch.
    public static let realtimeStartAnnotation = "dev.moat.time.realtime-start"
    /// "memory", "none" or an absolute directory: the root overlay when --overlay is not given.
    public static let overlayAnnotation = "dev.moat.overlay"
    /// "sentry" or "direct": who resolves the paths of stat, access and
    /// readlink calls when --metadata is not given (see FileProfile).
    public static let metadataAnnotation = "dev.moat.metadata"
    /// sentry or direct: who opens and changes files by path (as --files).
    public static let filesAnnotation = "dev.moat.files"

    public init(directory: String) throws(ConfigError) {
        guard let absolute = realPath(directory) else {
            throw ConfigError("bundle \(directory): \(Errno.current)")
        }
        let configPath = absolute + "/config.json"
        guard let bytes = HostFile.read(configPath) else {
            throw ConfigError("\(configPath): \(Errno.current)")
        }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw ConfigError("\(configPath): malformed JSON: \(error)") }
        try self.init(directory: absolute, spec: try Spec.decode(json))
    }

    public init(directory: String, spec: Spec) throws(ConfigError) {
        self.directory = directory
        self.spec = spec
        let root = spec.rootPath.hasPrefix("/") ? spec.rootPath : directory + "/" + spec.rootPath
        var st = stat()
        guard let resolved = realPath(root), stat(resolved, &st) == 0 else {
            throw ConfigError("root.path: \(root): \(Errno.current)")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw ConfigError("root.path: \(root): not a directory") }
        rootfs = resolved
    }

    /// What the sentry needs to run this bundle's process.
    public func sandbox() throws(ConfigError) -> SandboxSpec {
        let process = spec.process
        var child = ChildSpec(rootfs: rootfs)
        child.readonlyRoot = spec.rootReadonly
        if let propagation = MountOptions.propagation[spec.rootfsPropagation] { child.rootPropagation = propagation }
        // Namespaces the config does not list are inherited (the spec's MUST),
        // except the pid and mount ones: the sentry's view of processes and
        // files is the sandbox's own, so those are always new.
        child.cloneFlags = Linux.cloneNewNS | Linux.cloneNewPID
        let types: [String: UInt] = [
            "network": Linux.cloneNewNet, "cgroup": Linux.cloneNewCgroup,
            "ipc": Linux.cloneNewIPC, "uts": Linux.cloneNewUTS, "pid": Linux.cloneNewPID,
            "mount": Linux.cloneNewNS
        ]
        for (index, ns) in spec.namespaces.enumerated() {
            guard let type = types[ns.type] else { continue }
            if let path = ns.path {
                // Joined (an engine's network namespace, a pod's): not made anew.
                child.cloneFlags &= ~type
                let joined = type == Linux.cloneNewPID ? try NamespacePath.resolve(path, type: "pid", field: "linux.namespaces[\(index)].path") : path
                child.joinNamespaces.append((type: type, path: joined))
            } else {
                child.cloneFlags |= type
            }
        }
        child.userNamespace = try userNamespace()
        if let joined = child.userNamespace?.path { child.joinNamespaces.append((type: Linux.cloneNewUser, path: joined)) }
        for (index, mount) in spec.mounts.enumerated() {
            child.mounts.append(try MountOptions.childMount(mount, index: index, bundle: directory))
        }
        if let user = child.userNamespace {
            // devpts's gid=N needs N mapped inside (runc's rootless spec drops it; so do we when it is not).
            for index in child.mounts.indices where child.mounts[index].fstype == "devpts" {
                child.mounts[index].data = child.mounts[index].data.split(separator: ",").filter { option in
                    guard option.hasPrefix("gid="), let gid = UInt32(option.dropFirst(4)) else { return true }
                    return Bundle.maps(gid, user.gidMap)
                }.joined(separator: ",")
            }
        }
        // The runtime-spec's default devices (null, zero, full, random,
        // urandom, tty, and the fd/stdio/ptmx links) MUST be there: on the
        // config's /dev tmpfs, or, with no /dev mount, on files made in the
        // rootfs's /dev as runc does. Not over a /dev bound from elsewhere.
        child.defaultDevices = !spec.mounts.contains { $0.destination == "/dev" && $0.type == "bind" }
        child.maskedPaths = spec.maskedPaths
        child.readonlyPaths = spec.readonlyPaths
        child.hostname = spec.hostname
        child.sysctls = spec.sysctls.map { (key: $0.0, value: $0.1) }
        child.oomScoreAdj = spec.process.oomScoreAdj
        child.noNewPrivileges = spec.process.noNewPrivileges
        child.devices = spec.devices.map {
            ChildDevice(path: $0.path, mode: $0.mode, major: $0.major, minor: $0.minor, uid: $0.uid, gid: $0.gid)
        }
        child.extraFilter = try spec.seccomp?.program()
        child.terminal = process.terminal
        child.consoleSize = process.consoleSize
        child.cwd = process.cwd
        child.argv = process.args
        child.env = process.env
        child.executableCandidates = Bundle.executableCandidates(process.args[0], env: process.env)
        child.uid = process.user.uid
        child.gid = process.user.gid
        child.groups = process.user.additionalGids
        child.umask = process.user.umask.map { Int32($0) }
        child.rlimits = process.rlimits.map { ResourceLimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        let caps = process.capabilities
        child.capabilities.bounding = Bundle.mask(caps.bounding)
        child.capabilities.effective = Bundle.mask(caps.effective)
        child.capabilities.permitted = Bundle.mask(caps.permitted)
        child.capabilities.inheritable = Bundle.mask(caps.inheritable)
        child.capabilities.ambient = Bundle.mask(caps.ambient)

        var sandbox = SandboxSpec(child: child, hostname: spec.hostname ?? "moat")
        let uts = spec.namespaces.first(where: { $0.type == "uts" })
        if uts == nil {
            // The host's UTS namespace: its names are not the container's to set (runc refuses too).
            guard spec.hostname == nil, spec.domainname == nil else {
                throw ConfigError("\(spec.hostname == nil ? "domainname" : "hostname"): needs a uts namespace in linux.namespaces")
            }
            var names = utsname()
            Glibc.uname(&names)
            sandbox.hostname = withUnsafeBytes(of: names.nodename) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            sandbox.domainname = withUnsafeBytes(of: names.__domainname) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        } else if let joined = uts?.path {
            // A shared UTS namespace keeps its name unless the config sets one (as runc):
            // the sentry answers uname with what that namespace holds.
            if spec.hostname == nil {
                do { sandbox.hostname = try ProcessCalls.hostname(ofNamespace: joined) } catch {
                    throw ConfigError("linux.namespaces uts path \(joined): \(error)")
                }
            }
        } else if spec.hostname == nil {
            sandbox.child.hostname = "moat"
        }
        if let domain = spec.domainname { sandbox.domainname = domain }
        sandbox.pidsLimit = spec.pidsLimit
        sandbox.memoryLimit = spec.memoryLimit
        sandbox.memorySwap = spec.resources.memorySwap
        sandbox.memoryReservation = spec.resources.memoryReservation
        sandbox.disableOOMKiller = spec.resources.disableOOMKiller
        sandbox.blockIOWeight = spec.resources.blockIOWeight
        // linux.devices must be usable (runtime-spec), as runc allows them after the config's rules.
        sandbox.deviceRules =
            spec.resources.devices
            + sandbox.child.devices.compactMap { device in
                let kind: DeviceRule.Kind? =
                    switch device.mode & UInt32(S_IFMT) {
                    case UInt32(S_IFCHR): .char
                    case UInt32(S_IFBLK): .block
                    default: nil
                    }
                return kind.map { DeviceRule(allow: true, kind: $0, major: device.major, minor: device.minor, access: "rwm") }
            }
        // The kernel's wall for device nodes: unless the config allows a device
        // beyond runc's defaults, the root and bound directories are nodev, so a
        // node in the image reaches no driver (its open alone may act: a watchdog).
        sandbox.child.nodevFiles = !sandbox.deviceRules.contains { rule in rule.allow && !DeviceRule.defaults.contains(rule) }
        sandbox.cpus = spec.resources.cpus
        sandbox.mems = spec.resources.mems
        try checkHostCgroups()
        sandbox.cpu = spec.cpu.map { (shares: $0.shares, quota: $0.quota, period: $0.period) }
        if let path = cgroupPath {
            sandbox.cgroupPath = path
            sandbox.containerCgroup = true
        }
        sandbox.clockOffsets.monotonic = spec.monotonicOffset
        sandbox.clockOffsets.boottime = spec.boottimeOffset
        if let start = spec.annotation(Bundle.realtimeStartAnnotation) {
            guard let seconds = Timestamp.parse(start) else {
                throw ConfigError("annotations.\(Bundle.realtimeStartAnnotation): \(start) is neither RFC 3339 UTC nor seconds since the epoch")
            }
            sandbox.clockOffsets.realtimeStart = seconds * 1_000_000_000
        }
        return sandbox
    }

    /// The container's cgroup from linux.cgroupsPath. Systemd's
    /// "slice:prefix:name" form is made where systemd would put the scope
    /// (there may be no systemd to ask): kubelet and engines with the
    /// systemd driver read and limit the slices above it there.
    public var cgroupPath: String? {
        guard let path = spec.cgroupsPath, !path.isEmpty else { return nil }
        return path.contains(":") ? Spec.systemdCgroupPath(path) : path
    }

    /// What this host's cgroups cannot enforce is refused before anything is made.
    func checkHostCgroups() throws(ConfigError) {
        let resources = spec.resources
        if resources.disableOOMKiller && Cgroup.unifiedOnly {
            throw ConfigError("linux.resources.memory.disableOOMKiller: cgroup v2 cannot turn the OOM killer off")
        }
        if let swap = resources.memorySwap, swap > 0, swap != resources.memoryLimit, !Cgroup.supportsSwapLimit {
            throw ConfigError("linux.resources.memory.swap: this kernel does not account swap in cgroups (swapaccount)")
        }
        if resources.blockIOWeight != nil && !Cgroup.supportsBlockIOWeight {
            throw ConfigError("linux.resources.blockIO.weight: this host's I/O scheduler has no weights (blkio.weight)")
        }
    }

    /// The config's user namespace; without one, rootless mode maps the
    /// container's root to the caller's own uid and gid (all an
    /// unprivileged process may map).
    func userNamespace() throws(ConfigError) -> ChildSpec.UserNamespace? {
        func text(_ mappings: [Spec.IDMapping]) -> String {
            mappings.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
        }
        if let index = spec.namespaces.firstIndex(where: { $0.type == "user" }), let path = spec.namespaces[index].path {
            // A pod's: its maps are read from inside it.
            let field = "linux.namespaces[\(index)].path"
            guard !Linux.rootless else { throw ConfigError("\(field): joining a user namespace needs root") }
            let resolved = try NamespacePath.resolve(path, type: "user", field: field)
            let maps: (uidMap: String, gidMap: String)
            do { maps = try ProcessCalls.idMaps(ofNamespace: resolved) } catch { throw ConfigError("linux.namespaces path \(path): \(error)") }
            return .init(uidMap: maps.uidMap, gidMap: maps.gidMap, denySetgroups: false, path: resolved)
        }
        if spec.namespaces.contains(where: { $0.type == "user" }) {
            if Linux.rootless {
                let own = [Spec.IDMapping(containerID: 0, hostID: geteuid(), size: 1)]
                guard spec.uidMappings.count == 1, spec.uidMappings[0].hostID == geteuid(), spec.uidMappings[0].size == 1,
                    spec.gidMappings.count == 1, spec.gidMappings[0].hostID == getegid(), spec.gidMappings[0].size == 1
                else {
                    throw ConfigError("linux.uidMappings/gidMappings: without root only the caller's own ids can be mapped (\(text(own).dropLast()))")
                }
            }
            return .init(uidMap: text(spec.uidMappings), gidMap: text(spec.gidMappings), denySetgroups: Linux.rootless)
        }
        guard Linux.rootless else { return nil }
        if spec.resources != Spec.Resources() {
            throw ConfigError("linux.resources: limits need cgroups, which need root (run moat as root)")
        }
        return .init(uidMap: "0 \(geteuid()) 1\n", gidMap: "0 \(getegid()) 1\n", denySetgroups: true)
    }

    /// Whether an id map text ("inside outside count" lines) maps `id` inside.
    static func maps(_ id: UInt32, _ map: String) -> Bool {
        map.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ").compactMap { UInt64($0) }
            return fields.count == 3 && UInt64(id) >= fields[0] && UInt64(id) < fields[0] + fields[2]
        }
    }

    static func mask(_ names: [String]) -> UInt64 {
        names.reduce(0) { bits, name in
            guard let bit = Spec.capabilityNames.firstIndex(of: name) else { return bits }
            return bits | (1 << UInt64(bit))
        }
    }

    /// Like a shell: a name with a slash is used as is, others are looked up in PATH.
    public static func executableCandidates(_ program: String, env: [String]) -> [String] {
        if program.contains("/") { return [program] }
        let path =
            env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":", omittingEmptySubsequences: false).map { dir in
            (dir.isEmpty ? "." : String(dir)) + "/" + program
        }
    }
}

func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// RFC 3339 UTC timestamps and plain epoch seconds.
public enum Timestamp {
    /// "2000-01-01T00:00:00Z" for epoch seconds (civil from days, Howard Hinnant's algorithm).
    public static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }

    public static func parse(_ text: String) -> Int64? {
        if let seconds = Int64(text) { return seconds }
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "Z") || bytes[19] == UInt8(ascii: "z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int64? { Int64(String(decoding: bytes[range], as: UTF8.self)) }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10),
            let hh = number(11..<13), let mm = number(14..<16), let ss = number(17..<19),
            (1...12).contains(m), (1...31).contains(d), hh < 24, mm < 60, ss < 61
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return days * 86400 + hh * 3600 + mm * 60 + ss
    }
}
