import Platform

/// config.json mount options turned into mount(2) flags and data.
public enum MountOptions {
    static let rdonly: UInt = 1, nosuid: UInt = 2, nodev: UInt = 4, noexec: UInt = 8
    static let bind: UInt = 4096, rec: UInt = 16384

    static let setting: [String: UInt] = [
        "ro": rdonly, "nosuid": nosuid, "nodev": nodev, "noexec": noexec, "sync": 16, "dirsync": 128,
        "noatime": 1024, "nodiratime": 2048, "relatime": 1 << 21, "strictatime": 1 << 24, "lazytime": 1 << 25,
        "mand": 64
    ]
    static let clearing: [String: UInt] = [
        "rw": rdonly, "suid": nosuid, "dev": nodev, "exec": noexec, "async": 16, "atime": 1024,
        "diratime": 2048, "norelatime": 1 << 21, "nostrictatime": 1 << 24, "nolazytime": 1 << 25,
        "nomand": 64
    ]
    /// Propagation types, as mount(2) sets them on a mount after it is made.
    /// The workload cannot mount (the sentry refuses), so a shared mount
    /// only lets the host's mounts in; nothing the sandbox does propagates out.
    static let propagation: [String: UInt] = [
        "private": 1 << 18, "rprivate": 1 << 18 | rec, "slave": 1 << 19, "rslave": 1 << 19 | rec,
        "shared": 1 << 20, "rshared": 1 << 20 | rec, "unbindable": 1 << 17, "runbindable": 1 << 17 | rec
    ]

    /// Every option `childMount` takes (what `moat features` lists); `key=value` data options too.
    public static var names: [String] {
        (["bind", "rbind", "newinstance", "nr_inodes", "noacl"] + setting.keys + clearing.keys + propagation.keys).sorted()
    }

    static func childMount(_ mount: Spec.Mount, index: Int, bundle: String) throws(ConfigError) -> ChildMount {
        var flags: UInt = 0
        var propagationFlags: UInt = 0
        var data: [String] = []
        for option in mount.options {
            if let bit = setting[option] {
                flags |= bit
            } else if let bit = clearing[option] {
                flags &= ~bit
            } else if option == "bind" {
                continue
            } else if option == "rbind" {
                flags |= rec
            } else if let type = propagation[option] {
                propagationFlags = type
            } else if option.contains("=") || ["newinstance", "nr_inodes", "noacl"].contains(option) {
                data.append(option)
            } else {
                throw ConfigError("mounts[\(index)].options: unknown option \(option)")
            }
        }
        if mount.type == "bind" {
            let source = mount.source.hasPrefix("/") ? mount.source : bundle + "/" + mount.source
            guard let resolved = realPath(source) else {
                throw ConfigError("mounts[\(index)].source: \(source): \(Errno.current)")
            }
            let remount = flags & (rdonly | nosuid | nodev | noexec)
            return ChildMount(
                kind: .bind, source: resolved, target: mount.destination,
                flags: flags & rec, remountFlags: remount, propagation: propagationFlags)
        }
        if mount.type == "cgroup" || mount.type == "cgroup2" {
            // The sandbox is in no cgroup of its own to show (only a pids one,
            // when limited): an empty read-only tree, never the host's.
            return ChildMount(
                kind: .filesystem, source: "cgroup", target: mount.destination, fstype: "tmpfs",
                flags: flags | rdonly | nosuid | nodev | noexec, data: "size=0,mode=555")
        }
        return ChildMount(
            kind: .filesystem, source: mount.source, target: mount.destination,
            fstype: mount.type, flags: flags, data: data.joined(separator: ","), propagation: propagationFlags)
    }
}
