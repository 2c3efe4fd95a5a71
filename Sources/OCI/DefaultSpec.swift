/// The config.json `moat spec` writes: runc's default, with what Moat honours.
public enum DefaultSpec {
    /// runc's default capabilities: what `moat spec` writes.
    public static let runcCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    /// Docker's default capabilities (moby's oci/caps/defaults.go), what most
    /// containers in production run with.
    public static let dockerCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"
    ]

    public static func json(
        args: [String] = ["sh"], rootPath: String = "rootfs", readonly: Bool = true,
        capabilities: [String] = runcCapabilities, env: [String] = []
    ) -> JSON {
        func strings(_ list: [String]) -> JSON { .array(list.map { .string($0) }) }
        let caps = strings(capabilities)
        func mount(_ destination: String, _ type: String, _ source: String, _ options: [String]) -> JSON {
            .object([
                ("destination", .string(destination)), ("type", .string(type)),
                ("source", .string(source)), ("options", strings(options))
            ])
        }
        return .object([
            ("ociVersion", .string("1.0.2")),
            (
                "process",
                .object([
                    ("terminal", .bool(false)),
                    ("user", .object([("uid", .int(0)), ("gid", .int(0))])),
                    ("args", strings(args)),
                    ("env", strings(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"] + env)),
                    ("cwd", .string("/")),
                    ("capabilities", .object([("bounding", caps), ("effective", caps), ("permitted", caps)])),
                    ("rlimits", .array([.object([("type", .string("RLIMIT_NOFILE")), ("hard", .int(1024)), ("soft", .int(1024))])])),
                    ("noNewPrivileges", .bool(true))
                ])
            ),
            ("root", .object([("path", .string(rootPath)), ("readonly", .bool(readonly))])),
            ("hostname", .string("moat")),
            (
                "mounts",
                .array([
                    mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
                    mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
                    mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                    mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
                    mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
                    mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
                    mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"])
                ])
            ),
            (
                "linux",
                .object([
                    ("namespaces", .array(["pid", "network", "ipc", "uts", "mount"].map { .object([("type", .string($0))]) })),
                    (
                        "maskedPaths",
                        strings([
                            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                            "/proc/scsi"
                        ])
                    ),
                    ("readonlyPaths", strings(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]))
                ])
            )
        ])
    }
}
