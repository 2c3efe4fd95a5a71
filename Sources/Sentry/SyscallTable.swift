import Glibc
import Platform

/// What a handler decided.
public enum SyscallOutcome: Equatable, Sendable {
    /// The call is done; the tracee sees this value.
    case value(Int)
    /// The sentry checked the register arguments; the host runs the call as is.
    /// Only for calls whose arguments are plain numbers or memory the sentry does
    /// not base a decision on (the TOCTOU rule).
    case runOnHost
    /// The call returns a new fd: this one (the sentry's), installed in the
    /// caller at its lowest free number (close-on-exec if asked), then closed here.
    case donate(Int32, cloexec: Bool)
    /// The host runs the call as is and the sentry checks its result at the
    /// exit stop (calls that arrive as ptrace stops only: `needsStop`).
    case runOnHostToExit
}

public typealias SyscallHandler = @Sendable (Kernel, Task, SyscallArgs) throws(Errno) -> SyscallOutcome

public enum SupportLevel: String, Sendable, CaseIterable {
    case full, partial, unimplemented
}

public enum Handling: Sendable {
    /// Served by the sentry (seccomp RET_TRACE).
    case emulate(SyscallHandler)
    /// Run by the host unchanged (seccomp RET_ALLOW): host attack surface.
    case passthrough
    /// Run by the host unless an argument has one of `mask`'s bits.
    case passthroughUnless(argument: Int32, mask: UInt64, errno: Errno)
    /// Run by the host unless `argument & mask` is one of `values`.
    case passthroughExcept(argument: Int32, mask: UInt64, values: [UInt64], errno: Errno)
    /// Refused (seccomp RET_ERRNO).
    case deny(Errno)
    /// Served by the sentry when `(argument & mask)` is one of `values`, run
    /// by the host when it is one of `otherwise` (ENOSYS for the rest); with
    /// `unlessZero`, run by the host also while that argument is 0.
    case emulateWhen(argument: Int32, mask: UInt64, values: [UInt64], otherwise: [UInt64], unlessZero: Int32?, SyscallHandler)
    /// Run by the host when the argument is 0 (sendto without an address),
    /// served by the sentry otherwise.
    case emulateUnlessZero(argument: Int32, SyscallHandler)

    public var kind: String {
        switch self {
        case .emulate, .emulateWhen, .emulateUnlessZero: "emulated"
        case .passthrough, .passthroughUnless, .passthroughExcept: "passthrough"
        case .deny: "denied"
        }
    }
}

public struct SyscallEntry: Sendable {
    public let name: String
    public let handling: Handling
    public let level: SupportLevel
    public let note: String
    /// The handler changes the caller's registers, so the call must arrive
    /// as a ptrace stop, never as a user notification.
    var needsStop = false
    /// The handler returns an fd to donate, which only a user notification
    /// can take: the call comes as one whenever the filter has a listener.
    var donatesFD = false
    /// The sentry's work for it may wait on another process (a FIFO's open,
    /// a send into a full buffer): it comes as a user notification whenever
    /// the filter has a listener, and its serving thread passes receiving
    /// on first, so that it parks one serving thread, never the tracing
    /// thread nor the sandbox.
    var mayBlock = false

    /// It only reads metadata by path (stat, access, readlink families): under
    /// the direct-metadata profile the host runs it, and the kernel resolves
    /// the path in the sandbox's pivoted mount namespace instead of the sentry.
    public var readsMetadata = false

    /// It opens or changes a file by path (open, mkdir, rename, chmod ...):
    /// under the direct-files profile the host runs it in the sandbox's
    /// mount namespace. mknod is not one: the sentry keeps refusing devices.
    public var opensByPath = false

    /// Served by a serving thread whenever there is a listener.
    var alwaysNotified: Bool { donatesFD || mayBlock }
}

/// What a sandbox trades for speed, by name (`moat run --metadata=direct`,
/// `--files=direct`).
public struct FileProfile: Sendable, Equatable, Hashable {
    /// stat, access and readlink calls go to the host kernel, which resolves
    /// their paths inside the sandbox's mount namespace (pivot_root, masked
    /// paths, read-only binds: runc's wall), not through the sentry's walk.
    /// What is given up: the sentry's second check of where those paths lead;
    /// they still return only metadata, never an fd or a change.
    public var directMetadata = false
    /// Every call that opens or changes a file by path goes to the host
    /// kernel too (with the metadata calls): the mount namespace is then the
    /// only wall around the files, as under runc. What is given up: the
    /// sentry's walk and its checks on what it opened (device rules: the
    /// root and bound directories are nodev instead; /proc/sys: made
    /// read-only; another process's /proc files: the kernel's own ptrace
    /// check), and /proc's rendered files (uptime, meminfo under a limit,
    /// the kernel release), which show the host's values.
    public var directFiles = false
    public init(directMetadata: Bool = false, directFiles: Bool = false) {
        self.directMetadata = directMetadata || directFiles
        self.directFiles = directFiles
    }
}

/// The one table: every x86_64 syscall number, how it is handled, how well.
/// The seccomp program, the sentry's dispatch and `moat syscalls` all come from it.
public struct SyscallTable: Sendable {
    public static let shared = SyscallTable()

    /// Highest number the report covers (the kernel's table ends near here).
    public static let maxNumber: Int32 = 469

    /// Declared entries by number; numbers without one are unimplemented (ENOSYS).
    public let entries: [SyscallEntry?]
    /// The emulated entries' handlers by number: the dispatch's only lookup.
    let handlers: [SyscallHandler?]
    /// Names in the table that libseccomp could not resolve (a test keeps this empty).
    public let unresolved: [String]
    /// By number: served after the serving thread passes receiving on (`mayBlock`).
    private let handOvers: [Bool]

    init() {
        var entries = [SyscallEntry?](repeating: nil, count: Int(SyscallTable.maxNumber) + 1)
        var unresolved: [String] = []
        for entry in SyscallTable.declared {
            guard let nr = SyscallTable.number(of: entry.name) else {
                unresolved.append(entry.name)
                continue
            }
            entries[Int(nr)] = entry
        }
        self.entries = entries
        self.handlers = entries.map { entry in
            switch entry?.handling {
            case .emulate(let handler)?, .emulateWhen(_, _, _, _, _, let handler)?, .emulateUnlessZero(_, let handler)?: handler
            default: nil
            }
        }
        self.unresolved = unresolved
        self.handOvers = entries.map { $0?.mayBlock == true }
    }

    /// Whether a notified call is served after its serving thread passes
    /// receiving on to another (see ServingPool).
    public func handsOver(_ nr: Int32) -> Bool {
        nr >= 0 && nr <= SyscallTable.maxNumber && handOvers[Int(nr)]
    }

    func handler(_ nr: Int32) -> SyscallHandler? {
        nr >= 0 && nr <= SyscallTable.maxNumber ? handlers[Int(nr)] : nil
    }

    public func entry(_ nr: Int32) -> SyscallEntry? {
        nr >= 0 && nr <= SyscallTable.maxNumber ? entries[Int(nr)] : nil
    }

    /// The name of any number: libseccomp's, or the kernel's for calls newer than it.
    public static func name(of nr: Int32) -> String? {
        SyscallNames.name(of: nr) ?? newerThanLibseccomp[nr]
    }

    public static func number(of name: String) -> Int32? {
        SyscallNames.number(of: name) ?? newerThanLibseccomp.first { $0.value == name }?.key
    }

    /// Calls the installed libseccomp (2.5.4) does not name yet.
    static let newerThanLibseccomp: [Int32: String] = [
        457: "statmount", 458: "listmount", 459: "lsm_get_self_attr", 460: "lsm_set_self_attr",
        461: "lsm_list_modules", 462: "mseal", 463: "setxattrat", 464: "getxattrat",
        465: "listxattrat", 466: "removexattrat", 467: "open_tree_attr", 468: "file_getattr",
        469: "file_setattr"
    ]

    /// The seccomp action for each declared number. With `notify`, emulated
    /// calls that do not need a stopped thread come as user notifications.
    /// `observing` makes more calls trap (never fewer): refused and unknown
    /// ones to be recorded, passthrough ones to be counted or straced.
    /// `profile.directMetadata` lets the metadata calls through (unless observed).
    public func filterRules(
        notify: Bool = false, observing: Observation = Observation(), listener: Bool = true,
        profile: FileProfile = FileProfile()
    ) -> [(number: Int32, action: FilterAction)] {
        (0...SyscallTable.maxNumber).compactMap { nr in
            let straced = observing.straces(nr)
            guard let entry = entries[Int(nr)] else {
                return observing.refused || straced ? (nr, .trace) : nil
            }
            if (profile.directMetadata && entry.readsMetadata) || (profile.directFiles && entry.opensByPath), !observing.all, !straced {
                return (nr, .allow)
            }
            let action: FilterAction =
                switch entry.handling {
                // (A straced call that may wait still comes as a stop: strace prints
                // calls the host runs at their exit stop, and exec is one.)
                case .emulate where (entry.donatesFD || (entry.mayBlock && !straced)) && listener: .notify
                case .emulate: notify && !entry.needsStop && !straced ? .notify : .trace
                case .passthrough: observing.all || straced ? .trace : .allow
                case .passthroughUnless(let argument, let mask, let errno):
                    // Recording refusals: the sentry applies the same check itself.
                    observing.all || observing.refused || straced
                        ? .trace : .allowUnlessBits(argument: argument, mask: mask, errno: errno.rawValue)
                case .passthroughExcept(let argument, let mask, let values, let errno):
                    observing.all || observing.refused || straced
                        ? .trace : .allowExceptValues(argument: argument, mask: mask, values: values, errno: errno.rawValue)
                case .deny(let errno): observing.refused || straced ? .trace : .errno(errno.rawValue)
                case .emulateUnlessZero(let argument, _):
                    observing.all || straced
                        ? .trace
                        : .allowIfZero(argument: argument, notify: (entry.alwaysNotified && listener) || (notify && !entry.needsStop))
                case .emulateWhen(let argument, let mask, let values, let otherwise, let unlessZero, _):
                    observing.all || straced
                        ? .trace : .traceForValues(argument: argument, mask: mask, trace: values, allow: otherwise, unlessZero: unlessZero)
                }
            return (nr, action)
        }
    }

    /// The program every workload runs under, cached in `directory` if given.
    public func program(
        notify: Bool = false, observing: Observation = Observation(), listener: Bool = true,
        profile: FileProfile = FileProfile(), cacheDirectory: String? = nil
    ) throws(Errno) -> SeccompProgram {
        try SeccompProgram.cached(
            defaultErrno: ENOSYS,
            rules: filterRules(notify: notify, observing: observing, listener: listener, profile: profile),
            directory: cacheDirectory)
    }
}

// MARK: - The declarations, by family

extension SyscallTable {
    static func host(_ names: [String], _ level: SupportLevel = .full, _ note: String) -> [SyscallEntry] {
        names.map { SyscallEntry(name: $0, handling: .passthrough, level: level, note: note) }
    }

    static func emulate(
        _ name: String, _ handler: @escaping SyscallHandler, _ note: String,
        level: SupportLevel = .full, needsStop: Bool = false, donatesFD: Bool = false,
        mayBlock: Bool = false
    ) -> SyscallEntry {
        SyscallEntry(
            name: name, handling: .emulate(handler), level: level, note: note, needsStop: needsStop,
            donatesFD: donatesFD, mayBlock: mayBlock)
    }

    /// Marks a call that only reads metadata by path (see `FileProfile`).
    static func metadata(_ entry: SyscallEntry) -> SyscallEntry {
        var entry = entry
        entry.readsMetadata = true
        return entry
    }

    /// Marks a call that opens or changes a file by path (see `FileProfile`).
    static func byPath(_ entry: SyscallEntry) -> SyscallEntry {
        var entry = entry
        entry.opensByPath = true
        return entry
    }

    static func deny(_ names: [String], _ errno: Int32, _ note: String) -> [SyscallEntry] {
        names.map { SyscallEntry(name: $0, handling: .deny(Errno(errno)), level: .unimplemented, note: note) }
    }

    static let namespaceFlags = UInt64(Linux.allNamespaceFlags)
    static let cloneUntraced: UInt64 = 0x0080_0000
    /// TIOCSTI, TIOCLINUX, TIOCSETD.
    static let terminalInjection: [UInt64] = [0x5412, 0x541c, 0x5423]

    static let declared: [SyscallEntry] = [
        // Files: until the sentry's VFS lands these run on the host, confined to
        // the pivoted root of the sandbox's mount namespace.
        host(
            [
                "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2",
                "pwritev2", "lseek", "close", "dup", "dup2", "dup3", "fcntl", "flock", "fsync", "fdatasync",
                "ftruncate", "fstat", "fstatfs", "fchmod", "fchown", "fadvise64", "readahead", "fallocate",
                "sync_file_range", "sendfile", "splice", "tee", "vmsplice", "copy_file_range", "close_range",
                "getdents", "getdents64", "fgetxattr", "fsetxattr", "flistxattr", "fremovexattr",
                "sync", "syncfs", "memfd_create", "pipe", "pipe2", "eventfd", "eventfd2", "inotify_init",
                "inotify_init1", "inotify_rm_watch", "fchdir"
            ],
            .full, "on fds the workload holds"),
        // TIOCSTI pushes input into a terminal's queue, TIOCLINUX's selection
        // pastes into the console, TIOCSETD swaps the line discipline: with a
        // terminal shared with the host they would type commands there.
        // The kernel reads the request as an unsigned int: only 32 bits count.
        [
            SyscallEntry(
                name: "ioctl",
                handling: .passthroughExcept(
                    argument: 1, mask: 0xffff_ffff, values: terminalInjection,
                    errno: .notPermitted),
                level: .full, note: "on fds the workload holds; TIOCSTI, TIOCLINUX and TIOCSETD refused with EPERM")
        ],
        host(["getcwd"], .full, "the kernel's answer is the path inside the pivoted root"),
        [
            emulate(
                "execve", Exec.execve,
                "program and #! interpreters resolved and checked by the sentry; the kernel loads it in the pivoted root and the exec stop proves it read the same path and file",
                mayBlock: true),
            emulate("execveat", Exec.execveat, "AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW; checked as execve", mayBlock: true)
        ],
        // Files, served by the sentry's VFS: resolved in the sandbox's root, opened under the caller's credentials.
        [
            byPath(
                emulate(
                    "open", Files.open,
                    "resolved by the sentry; the fd is donated (O_PATH: opened by the kernel in the pivoted root, SECCOMP_ADDFD cannot pass it)",
                    donatesFD: true, mayBlock: true)),
            byPath(
                emulate(
                    "openat", Files.openat, "resolved by the sentry; the fd is donated (O_PATH: opened by the kernel in the pivoted root)",
                    donatesFD: true, mayBlock: true)),
            byPath(emulate("creat", Files.creat, "resolved by the sentry; the fd is donated", donatesFD: true, mayBlock: true)),
            byPath(
                emulate(
                    "openat2", Files.openat2,
                    "BENEATH/IN_ROOT resolved by the kernel below the dirfd; NO_SYMLINKS/NO_MAGICLINKS by the sentry; CACHED is EAGAIN, NO_XDEV alone ENOSYS",
                    level: .partial, donatesFD: true, mayBlock: true)),
            metadata(emulate("stat", Stat.stat, "resolved by the sentry")),
            metadata(emulate("lstat", Stat.lstat, "resolved by the sentry")),
            metadata(emulate("newfstatat", Stat.newfstatat, "resolved by the sentry")),
            metadata(emulate("statx", Stat.statx, "resolved by the sentry")),
            metadata(emulate("statfs", Stat.statfs, "resolved by the sentry")),
            metadata(emulate("access", Stat.access, "checked with the caller's real ids")),
            metadata(emulate("faccessat", Stat.faccessat, "checked with the caller's real ids")),
            metadata(emulate("faccessat2", Stat.faccessat2, "AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH")),
            metadata(emulate("readlink", Stat.readlink, "resolved by the sentry; /proc/self names the caller")),
            metadata(emulate("readlinkat", Stat.readlinkat, "resolved by the sentry; /proc/self names the caller")),
            byPath(
                emulate(
                    "chdir", Directories.chdir, "resolved and checked by the sentry; the caller is handed the directory's fd and fchdirs to it",
                    needsStop: true)),
            byPath(emulate("mkdir", Directories.mkdir, "in the directory the sentry resolved, with the caller's umask")),
            byPath(emulate("mkdirat", Directories.mkdirat, "in the directory the sentry resolved, with the caller's umask")),
            emulate("mknod", Directories.mknod, "regular files, fifos, sockets; devices EPERM", level: .partial),
            emulate("mknodat", Directories.mknodat, "regular files, fifos, sockets; devices EPERM", level: .partial),
            byPath(emulate("unlink", Directories.unlink, "in the directory the sentry resolved")),
            byPath(emulate("unlinkat", Directories.unlinkat, "in the directory the sentry resolved")),
            byPath(emulate("rmdir", Directories.rmdir, "in the directory the sentry resolved")),
            byPath(emulate("rename", Directories.rename, "both directories resolved by the sentry")),
            byPath(emulate("renameat", Directories.renameat, "both directories resolved by the sentry")),
            byPath(emulate("renameat2", Directories.renameat2, "NOREPLACE, EXCHANGE, WHITEOUT; both directories resolved by the sentry")),
            byPath(emulate("link", Directories.link, "both directories resolved by the sentry")),
            byPath(emulate("linkat", Directories.linkat, "AT_SYMLINK_FOLLOW; both paths resolved by the sentry")),
            byPath(emulate("symlink", Directories.symlink, "the text is stored as given; the sentry resolves it when followed")),
            byPath(emulate("symlinkat", Directories.symlinkat, "the text is stored as given; the sentry resolves it when followed")),
            byPath(emulate("chmod", Attributes.chmod, "resolved by the sentry")),
            byPath(emulate("fchmodat", Attributes.fchmodat, "resolved by the sentry")),
            byPath(emulate("fchmodat2", Attributes.fchmodat2, "AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH")),
            byPath(emulate("chown", Attributes.chown, "resolved by the sentry")),
            byPath(emulate("lchown", Attributes.lchown, "resolved by the sentry")),
            byPath(emulate("fchownat", Attributes.fchownat, "AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH")),
            byPath(emulate("utimensat", Attributes.utimensat, "resolved by the sentry; NULL path: the dirfd's file")),
            byPath(emulate("utimes", Attributes.utimes, "resolved by the sentry")),
            byPath(emulate("futimesat", Attributes.futimesat, "resolved by the sentry")),
            byPath(emulate("utime", Attributes.utime, "resolved by the sentry")),
            byPath(emulate("truncate", Attributes.truncate, "opened for writing under the caller's credentials, then cut")),
            byPath(emulate("getxattr", ExtendedAttributes.getxattr, "resolved by the sentry")),
            byPath(emulate("lgetxattr", ExtendedAttributes.lgetxattr, "resolved by the sentry")),
            byPath(emulate("setxattr", ExtendedAttributes.setxattr, "resolved by the sentry")),
            byPath(emulate("lsetxattr", ExtendedAttributes.lsetxattr, "resolved by the sentry")),
            byPath(emulate("listxattr", ExtendedAttributes.listxattr, "resolved by the sentry")),
            byPath(emulate("llistxattr", ExtendedAttributes.llistxattr, "resolved by the sentry")),
            byPath(emulate("removexattr", ExtendedAttributes.removexattr, "resolved by the sentry")),
            byPath(emulate("lremovexattr", ExtendedAttributes.lremovexattr, "resolved by the sentry")),
            byPath(
                emulate(
                    "inotify_add_watch", ExtendedAttributes.inotifyAddWatch, "resolved by the sentry; the watch is added to the caller's instance"))
        ],

        // Memory of the process itself.
        host(
            [
                "mmap", "mprotect", "munmap", "brk", "mremap", "msync", "mincore", "madvise", "mlock",
                "mlock2", "munlock", "mlockall", "munlockall", "remap_file_pages", "pkey_mprotect",
                "pkey_alloc", "pkey_free", "membarrier", "mbind", "set_mempolicy", "get_mempolicy",
                "set_mempolicy_home_node"
            ],
            .full, "the caller's own address space"),

        // Threads, signals and futexes of the caller.
        [
            emulate(
                "rt_sigtimedwait", Signals.sigtimedwait,
                "run by the host; a signal it returns that Linux would have dropped (ignored, not blocked: ptrace makes the kernel queue it) makes it wait on for the rest of its timeout",
                needsStop: true)
        ],
        host(
            [
                "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
                "rt_sigsuspend", "sigaltstack", "pause", "signalfd", "signalfd4", "restart_syscall",
                "set_robust_list", "get_robust_list", "set_tid_address",
                "arch_prctl", "rseq", "exit", "exit_group", "sched_yield", "sched_get_priority_max",
                "sched_get_priority_min", "getcpu", "getrandom", "getrusage", "getrlimit", "setrlimit",
                "prctl", "personality", "capget", "pidfd_send_signal"
            ],
            .full, "affects only the caller"),
        // The kernel's pids are the sandbox's: it runs in its own pid namespace
        // (or a pod's it joined), and the sentry's numbers are read from NSpid.
        host(["fork", "vfork"], .full, "results are pids of the sandbox's pid namespace"),
        host(["getpid", "gettid"], .full, "the kernel's numbers in the sandbox's pid namespace are the sandbox's (1 for the init)"),
        host(["getppid"], .full, "0 for the init and for a process whose parent is outside the sandbox's pid namespace"),
        // Signals, the hot ones (servers signal each other): the namespace holds
        // only the sandbox's processes (or a pod's, which Linux lets it signal),
        // so the kernel's ESRCH is the sentry's answer for any other pid.
        host(["kill", "tkill", "tgkill"], .full, "a pid outside the sandbox's pid namespace is ESRCH"),
        host(["pidfd_getfd"], .full, "a pidfd names a sandbox process: pidfd_open is checked, CLONE_PIDFD gives children"),
        // CLONE_UNTRACED would make a child that ptrace never sees: its calls
        // served at ptrace stops fail, and its execs go unchecked. CLONE_PTRACE
        // is allowed: every child is traced already (PTRACE_O_TRACECLONE...).
        [
            SyscallEntry(
                name: "clone",
                handling: .passthroughUnless(
                    argument: 0, mask: namespaceFlags | cloneUntraced,
                    errno: .notPermitted),
                level: .full, note: "namespace flags and CLONE_UNTRACED refused with EPERM")
        ],
        // A user-notification listener is refused, but only for flags the kernel
        // would accept: unknown flags (outside 0x3f, in the 32 the kernel reads)
        // are its EINVAL, as on Linux.
        [
            SyscallEntry(
                name: "seccomp", handling: .passthroughExcept(argument: 1, mask: 0xffff_ffc8, values: [8], errno: .notPermitted),
                level: .partial, note: "nested filters allowed; a user-notification listener is refused (it could answer before the sentry)")
        ],
        [
            emulate(
                "unshare", Namespaces.unshare,
                "fs, files, sysvsem (and thread/vm/sighand as Linux allows them) run on the host; new namespaces refused with EPERM", level: .partial)
        ],

        // Credentials: the child runs with process.user's ids and capabilities.
        host(
            ["getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid"],
            .full, "the workload runs with the config's user and capabilities"),
        [
            "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
            "capset", "umask"
        ].map {
            emulate($0, Files.forgetCredentials, "run by the host; the sentry rereads the caller's ids for its next file call")
        },

        // Time without deadlines on sentry clocks.
        host(["nanosleep", "clock_getres", "getitimer", "setitimer", "alarm"], .full, "relative times"),
        host(
            ["timer_create", "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_gettime"],
            .full, "timers run on host clocks; remaining times are relative"),

        // Waiting on fds.
        host(
            [
                "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
                "epoll_wait", "epoll_pwait", "epoll_pwait2"
            ],
            .full, "on fds the workload holds"),

        // Sockets and IPC live in the sandbox's network and IPC namespaces.
        host(
            [
                "socket", "socketpair", "accept", "accept4", "listen", "shutdown",
                "recvfrom", "recvmsg", "recvmmsg", "getsockname", "getpeername", "setsockopt", "getsockopt"
            ],
            .full, "in the config's network namespace"),
        [
            emulate("bind", UnixSockets.bind, "the copied address bound by the sentry; a unix socket path resolved by the sentry"),
            // send() is sendto with no address: the filter lets it through.
            SyscallEntry(
                name: "sendto", handling: .emulateUnlessZero(argument: 4, UnixSockets.sendto), level: .partial,
                note:
                    "no address (send, connected sockets): run on the host without a trap; to a unix socket path: resolved by the sentry and sent by a serving thread, waiting on a full buffer as Linux does; else run on the host",
                mayBlock: true),
            emulate(
                "sendmsg", UnixSockets.sendmsg,
                "to a unix socket path: resolved by the sentry, passed fds and credentials rebuilt, sent by a serving thread, waiting on a full buffer as Linux does; else run on the host",
                level: .partial, mayBlock: true),
            // A ptrace stop, not a notification: a child hands its new listener
            // over with sendmmsg, after its filter is loaded and before anyone listens.
            emulate(
                "sendmmsg", UnixSockets.sendmmsg, "as sendmsg, message by message, when one names a unix socket path; else run on the host",
                level: .partial, needsStop: true),
            emulate(
                "connect", UnixSockets.connect,
                "a unix socket path is resolved and checked by the sentry, connected by the kernel in the pivoted root, and the peer's file compared at the exit stop; other addresses run on the host",
                needsStop: true)
        ],
        host(
            [
                "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop", "msgget",
                "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_notify", "mq_getsetattr"
            ],
            .full, "in the sandbox's IPC namespace"),
        host(
            ["io_setup", "io_destroy", "io_getevents", "io_submit", "io_cancel", "io_pgetevents"],
            .full, "AIO on fds the workload holds"),

        // Pids, served by the sentry.
        [
            emulate("getpgid", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("getpgrp", Pids.runOnHost, "the sandbox's pid namespace"),
            emulate("getsid", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("setsid", Pids.runOnHost, "the sandbox's pid namespace"),
            emulate("setpgid", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("wait4", Pids.checkedWait(0), "pid checked against the sandbox; status from the kernel"),
            emulate("waitid", Pids.checkedWaitid, "P_PID checked against the sandbox"),
            emulate("rt_sigqueueinfo", Pids.checkedPid(0), "a pid outside the sandbox is ESRCH"),
            emulate("rt_tgsigqueueinfo", Pids.checkedTgkill, "ids outside the sandbox are ESRCH"),
            emulate("prlimit64", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("pidfd_open", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("getpriority", Pids.checkedPriority, "PRIO_PROCESS pid checked against the sandbox"),
            emulate("setpriority", Pids.checkedPriority, "PRIO_PROCESS pid checked against the sandbox"),
            emulate("ioprio_get", Pids.checkedPriority, "IOPRIO_WHO_PROCESS pid checked against the sandbox"),
            emulate("ioprio_set", Pids.checkedPriority, "IOPRIO_WHO_PROCESS pid checked against the sandbox"),
            emulate("sched_setaffinity", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_getaffinity", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_setparam", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_getparam", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_setscheduler", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_getscheduler", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_rr_get_interval", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_setattr", Pids.checkedPid(0), "pid checked against the sandbox"),
            emulate("sched_getattr", Pids.checkedPid(0), "pid checked against the sandbox")
        ],

        // Time, served by the sentry.
        [
            emulate("clock_gettime", Time.clockGettime, "MONOTONIC/BOOTTIME from sandbox start, REALTIME host + offset; CPU clocks from the host"),
            emulate("gettimeofday", Time.gettimeofday, "REALTIME of the sandbox"),
            emulate("time", Time.time, "REALTIME of the sandbox"),
            emulate(
                "clock_nanosleep", Time.clockNanosleep, "TIMER_ABSTIME deadlines shifted to host clocks",
                needsStop: true),
            emulate(
                "timerfd_settime", Time.timerfdSettime, "TFD_TIMER_ABSTIME deadlines on sandbox clocks shifted to host clocks",
                needsStop: true),
            emulate(
                "timer_settime", Time.timerSettime, "TIMER_ABSTIME deadlines on sandbox clocks shifted to host clocks",
                needsStop: true),
            SyscallEntry(
                name: "futex",
                handling: .emulateWhen(
                    argument: 1, mask: 0x7f, values: Futex.absoluteOps,
                    otherwise: Futex.otherOps, unlessZero: 3, Futex.futex),
                level: .full,
                note:
                    "ops with absolute deadlines (WAIT_BITSET, LOCK_PI ...) shifted to host clocks; the rest, and those ops without a timeout, run on the host",
                needsStop: true),
            emulate("futex_waitv", Futex.futexWaitv, "absolute deadline shifted to the host clock", needsStop: true),
            emulate("mq_timedsend", Futex.mqTimed, "absolute REALTIME deadline shifted", needsStop: true),
            emulate("mq_timedreceive", Futex.mqTimed, "absolute REALTIME deadline shifted", needsStop: true),
            emulate("times", Time.times, "elapsed ticks since sandbox start"),
            emulate(
                "sysinfo", Time.sysinfo, "uptime and process count of the sandbox; memory is the limit's when one is set, else the host's",
                level: .partial)
        ],

        // Identity.
        [
            emulate("uname", Identity.uname, "the sandbox's hostname, a fixed release"),
            emulate("sethostname", Identity.sethostname, "per sandbox; needs CAP_SYS_ADMIN in the config"),
            emulate("setdomainname", Identity.setdomainname, "per sandbox; needs CAP_SYS_ADMIN in the config")
        ],

        // Refused: privileged or reaching outside the sandbox.
        deny(
            [
                "mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "reboot", "acct",
                "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "kexec_load",
                "kexec_file_load", "init_module", "finit_module", "delete_module", "iopl", "ioperm",
                "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
                "process_madvise", "process_mrelease", "bpf", "perf_event_open", "keyctl", "add_key",
                "request_key", "setns", "userfaultfd", "open_by_handle_at", "quotactl",
                "quotactl_fd", "syslog", "vhangup", "lookup_dcookie", "fanotify_init", "fanotify_mark",
                "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
                "migrate_pages", "move_pages", "modify_ldt"
            ],
            EPERM, "privileged, or reaches outside the sandbox"),
        deny(["name_to_handle_at"], EOPNOTSUPP, "file handles would name host inodes"),
        deny(
            ["io_uring_setup", "io_uring_enter", "io_uring_register"], ENOSYS,
            "io_uring bypasses syscall interception; programs fall back to read/write"),
        deny(["clone3"], ENOSYS, "its flags are in memory the filter cannot check; libc falls back to clone"),
        deny(["ustat"], ENOSYS, "obsolete (glibc dropped it); it names a host device number, not a path"),
        deny(
            [
                "uselib", "create_module", "get_kernel_syms", "query_module", "_sysctl", "nfsservctl",
                "getpmsg", "putpmsg", "afs_syscall", "tuxcall", "security", "vserver", "epoll_ctl_old",
                "epoll_wait_old", "sysfs", "set_thread_area", "get_thread_area"
            ],
            ENOSYS, "obsolete or never implemented on x86_64"),
        deny(
            [
                "memfd_secret", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
                "cachestat", "map_shadow_stack", "futex_wake", "futex_wait", "futex_requeue"
            ],
            ENOSYS, "not implemented yet")
    ].flatMap { $0 }
}
