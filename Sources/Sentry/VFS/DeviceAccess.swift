import Glibc

/// Which device nodes the workload may open: runc's device cgroup rules,
/// applied by the sentry to every device it opens. A node shipped in the
/// image (or left in a bound volume) would otherwise reach the host's
/// device: a block device `b 7 0` in the rootfs is the host's loop0. As
/// runc: the config's `linux.resources.devices` in order, then the default
/// devices, the last rule that matches decides, and nothing matching is EPERM.
public struct DeviceRule: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case all, char, block }
    public var allow: Bool
    public var kind: Kind
    /// nil: every number (`*`).
    public var major: UInt32?
    public var minor: UInt32?
    /// The accesses the rule names, of "r", "w" and "m" (mknod, which the sentry refuses anyway).
    public var read: Bool
    public var write: Bool

    public init(allow: Bool, kind: Kind, major: UInt32?, minor: UInt32?, access: String) {
        self.allow = allow
        self.kind = kind
        self.major = major
        self.minor = minor
        read = access.contains("r")
        write = access.contains("w")
    }

    /// What runc allows whatever the config says (its specconv.AllowedDevices):
    /// null, zero, full, random, urandom, tty, console, ptmx, pty replicas and tun.
    public static let defaults: [DeviceRule] =
        [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (10, 200)].map {
            DeviceRule(allow: true, kind: .char, major: $0.0, minor: $0.1, access: "rwm")
        } + [DeviceRule(allow: true, kind: .char, major: 136, minor: nil, access: "rwm")]

    /// An allow rule counts when it grants every access asked, a deny rule
    /// when it refuses any of them.
    func matches(_ kind: Kind, _ major: UInt32, _ minor: UInt32, read: Bool, write: Bool) -> Bool {
        guard
            (self.kind == .all || self.kind == kind) && (self.major == nil || self.major == major)
                && (self.minor == nil || self.minor == minor)
        else { return false }
        return allow ? (!read || self.read) && (!write || self.write) : (read && self.read) || (write && self.write)
    }

    /// A device's major and minor numbers, as glibc's major() and minor()
    /// read them: the high parts are cut to 32 bits first (a node's numbers
    /// come from the image, so any value may arrive).
    static func numbers(_ device: dev_t) -> (major: UInt32, minor: UInt32) {
        (
            UInt32(truncatingIfNeeded: device >> 8) & 0xfff | UInt32(truncatingIfNeeded: device >> 32) & ~0xfff,
            UInt32(truncatingIfNeeded: device) & 0xff | UInt32(truncatingIfNeeded: device >> 12) & ~0xff
        )
    }

    /// Whether `rules` (the config's, then the defaults) let a node of `mode`
    /// and `device` be opened with `flags`; true for anything not a device.
    public static func allows(_ rules: [DeviceRule], mode: mode_t, device: dev_t, flags: Int32) -> Bool {
        let kind: Kind
        switch mode & S_IFMT {
        case S_IFCHR: kind = .char
        case S_IFBLK: kind = .block
        default: return true
        }
        let (major, minor) = DeviceRule.numbers(device)
        let access = flags & O_ACCMODE
        let read = access != O_WRONLY
        let write = access != O_RDONLY || flags & O_TRUNC != 0
        // The last match of `rules + defaults`, without making that array on every open of /dev/null.
        func matching(_ rule: DeviceRule) -> Bool { rule.matches(kind, major, minor, read: read, write: write) }
        return (defaults.last(where: matching) ?? rules.last(where: matching))?.allow == true
    }
}
