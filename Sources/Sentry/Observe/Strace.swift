import Glibc
import Platform

/// strace's notation for one call: its name, its arguments decoded by type
/// (paths, flags, fds, the structs of stat and timespec), and its result.
/// Input arguments are read at entry, output arguments once the call is done.
enum Strace {
    enum Arg {
        /// int: a C int (32 bits); long: 64 bits (offsets, lengths).
        case int, long, uint, hex, fd, dirfd, path, openFlags, mode, atFlags, accessMode, whence, signal, clock
        case prot, mapFlags, fcntlCommand, ioctlCommand, prctlOption, archPrctlCode, argv, envp
        /// Bytes the caller passes in; the length is argument `length`.
        case inBuffer(length: Int)
        /// Bytes the call writes; as many as it returned.
        case outBuffer
        case timespecIn, timespecOut, statOut

        var isOutput: Bool {
            switch self {
            case .outBuffer, .timespecOut, .statOut: true
            default: false
            }
        }
    }

    /// Calls whose result is an address.
    static let addressResults: Set<String> = ["mmap", "brk", "mremap", "shmat"]

    static let signatures: [String: [Arg]] = [
        "read": [.fd, .outBuffer, .uint], "write": [.fd, .inBuffer(length: 2), .uint],
        "pread64": [.fd, .outBuffer, .uint, .long], "pwrite64": [.fd, .inBuffer(length: 2), .uint, .long],
        "readv": [.fd, .hex, .int], "writev": [.fd, .hex, .int],
        "open": [.path, .openFlags, .mode], "openat": [.dirfd, .path, .openFlags, .mode], "creat": [.path, .mode],
        "close": [.fd], "dup": [.fd], "dup2": [.fd, .fd], "dup3": [.fd, .fd, .openFlags],
        "stat": [.path, .statOut], "lstat": [.path, .statOut], "fstat": [.fd, .statOut],
        "newfstatat": [.dirfd, .path, .statOut, .atFlags], "statx": [.dirfd, .path, .atFlags, .hex, .hex],
        "statfs": [.path, .hex], "fstatfs": [.fd, .hex],
        "lseek": [.fd, .long, .whence], "getdents64": [.fd, .hex, .uint], "getdents": [.fd, .hex, .uint],
        "access": [.path, .accessMode], "faccessat": [.dirfd, .path, .accessMode],
        "faccessat2": [.dirfd, .path, .accessMode, .atFlags],
        "readlink": [.path, .outBuffer, .uint], "readlinkat": [.dirfd, .path, .outBuffer, .uint],
        "getcwd": [.outBuffer, .uint], "chdir": [.path], "fchdir": [.fd],
        "mkdir": [.path, .mode], "mkdirat": [.dirfd, .path, .mode], "rmdir": [.path],
        "unlink": [.path], "unlinkat": [.dirfd, .path, .atFlags],
        "rename": [.path, .path], "renameat": [.dirfd, .path, .dirfd, .path],
        "renameat2": [.dirfd, .path, .dirfd, .path, .uint],
        "link": [.path, .path], "linkat": [.dirfd, .path, .dirfd, .path, .atFlags],
        "symlink": [.path, .path], "symlinkat": [.path, .dirfd, .path],
        "chmod": [.path, .mode], "fchmod": [.fd, .mode], "fchmodat": [.dirfd, .path, .mode],
        "chown": [.path, .int, .int], "lchown": [.path, .int, .int], "fchown": [.fd, .int, .int],
        "fchownat": [.dirfd, .path, .int, .int, .atFlags], "truncate": [.path, .long], "ftruncate": [.fd, .long],
        "utimensat": [.dirfd, .path, .hex, .atFlags], "umask": [.mode],
        "execve": [.path, .argv, .envp], "execveat": [.dirfd, .path, .argv, .envp, .atFlags],
        "mmap": [.hex, .uint, .prot, .mapFlags, .fd, .hex], "mprotect": [.hex, .uint, .prot],
        "munmap": [.hex, .uint], "brk": [.hex], "mremap": [.hex, .uint, .uint, .int, .hex],
        "madvise": [.hex, .uint, .int],
        "pipe": [.hex], "pipe2": [.hex, .openFlags], "fcntl": [.fd, .fcntlCommand, .hex], "ioctl": [.fd, .ioctlCommand, .hex],
        "flock": [.fd, .int], "fsync": [.fd], "fdatasync": [.fd],
        "getpid": [], "getppid": [], "gettid": [], "getuid": [], "geteuid": [], "getgid": [], "getegid": [],
        "getpgrp": [], "setsid": [], "fork": [], "vfork": [], "sched_yield": [], "pause": [],
        "getpgid": [.int], "getsid": [.int], "setpgid": [.int, .int],
        "exit": [.int], "exit_group": [.int], "wait4": [.int, .hex, .int, .hex],
        "kill": [.int, .signal], "tkill": [.int, .signal], "tgkill": [.int, .int, .signal],
        "rt_sigaction": [.signal, .hex, .hex, .uint], "rt_sigprocmask": [.int, .hex, .hex, .uint],
        "rt_sigreturn": [], "clone": [.hex, .hex, .hex, .hex, .hex], "clone3": [.hex, .uint],
        "uname": [.hex], "sysinfo": [.hex], "times": [.hex],
        "clock_gettime": [.clock, .timespecOut], "clock_getres": [.clock, .timespecOut],
        "clock_nanosleep": [.clock, .int, .timespecIn, .hex], "nanosleep": [.timespecIn, .hex],
        "gettimeofday": [.hex, .hex], "time": [.hex],
        "arch_prctl": [.archPrctlCode, .hex], "set_tid_address": [.hex], "set_robust_list": [.hex, .uint],
        "rseq": [.hex, .uint, .int, .hex], "prlimit64": [.int, .int, .hex, .hex], "getrandom": [.hex, .uint, .uint],
        "futex": [.hex, .int, .int, .hex, .hex, .int], "prctl": [.prctlOption, .hex, .hex, .hex, .hex],
        "sched_getaffinity": [.int, .uint, .hex], "getrlimit": [.int, .hex], "setrlimit": [.int, .hex],
        "socket": [.int, .int, .int], "socketpair": [.int, .int, .int, .hex], "connect": [.fd, .hex, .uint],
        "bind": [.fd, .hex, .uint], "listen": [.fd, .int], "accept": [.fd, .hex, .hex], "accept4": [.fd, .hex, .hex, .int],
        "sendto": [.fd, .inBuffer(length: 2), .uint, .int, .hex, .uint], "recvfrom": [.fd, .outBuffer, .uint, .int, .hex, .hex],
        "poll": [.hex, .uint, .int], "ppoll": [.hex, .uint, .timespecIn, .hex, .uint],
        "epoll_create1": [.openFlags], "epoll_ctl": [.fd, .int, .fd, .hex], "epoll_wait": [.fd, .hex, .int, .int],
        "eventfd2": [.uint, .openFlags], "memfd_create": [.path, .uint], "close_range": [.fd, .fd, .uint], "sendfile": [.fd, .fd, .hex, .uint],
        "copy_file_range": [.fd, .hex, .fd, .hex, .uint, .uint], "splice": [.fd, .hex, .fd, .hex, .uint, .uint],
        "mount": [.path, .path, .path, .hex, .hex], "umount2": [.path, .int], "pivot_root": [.path, .path], "chroot": [.path],
        "unshare": [.hex], "setns": [.fd, .hex], "ptrace": [.int, .int, .hex, .hex], "io_uring_setup": [.uint, .hex]
    ]

    /// The input arguments, read now; nil where an output goes.
    static func inputs(_ args: SyscallArgs, _ memory: TraceeMemory) -> [String?] {
        kinds(args.number).enumerated().map { index, kind in
            kind.isOutput ? nil : format(kind, args[index], args, memory: memory)
        }
    }

    /// "name(arguments) = result"
    static func call(_ args: SyscallArgs, inputs: [String?], result: Int64, memory: TraceeMemory?) -> String {
        let name = SyscallTable.name(of: args.number) ?? "syscall_\(args.number)"
        let succeeded = result >= 0 || result < -4095
        let rendered = kinds(args.number).enumerated().map { index, kind in
            if let text = inputs.indices.contains(index) ? inputs[index] : nil { return text }
            guard succeeded, let memory else { return hex(args[index]) }
            return output(kind, args[index], result: result, memory: memory)
        }
        return "\(name)(\(rendered.joined(separator: ", "))) = \(self.result(result, address: addressResults.contains(name)))"
    }

    static func kinds(_ nr: Int32) -> [Arg] {
        SyscallTable.name(of: nr).flatMap { signatures[$0] } ?? [.hex, .hex, .hex]
    }

    static func result(_ value: Int64, address: Bool) -> String {
        if value < 0 && value >= -4095 {
            let code = Int32(-value)
            return "-1 \(Errno(code).name) (\(String(cString: strerror(code))))"
        }
        return address ? hex(UInt64(bitPattern: value)) : String(value)
    }

    static func format(_ kind: Arg, _ value: UInt64, _ args: SyscallArgs, memory: TraceeMemory) -> String {
        let signed = Int64(bitPattern: value)
        let int = Int32(truncatingIfNeeded: value)
        switch kind {
        case .int: return String(int)
        case .long: return String(signed)
        case .uint: return String(value)
        case .hex, .outBuffer, .timespecOut, .statOut: return hex(value)
        case .fd: return String(int)
        case .dirfd: return int == -100 ? "AT_FDCWD" : String(int)
        case .path: return string(memory, value, limit: 4096)
        case .inBuffer(let length):
            return string(
                memory, value, limit: Int(min(args[length], 32)), exact: true,
                truncated: args[length] > 32)
        case .openFlags: return openFlags(value)
        case .mode: return "0" + String(value & 0o7777, radix: 8)
        case .atFlags:
            return flags(
                value,
                [
                    (0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_REMOVEDIR"), (0x400, "AT_SYMLINK_FOLLOW"),
                    (0x800, "AT_NO_AUTOMOUNT"), (0x1000, "AT_EMPTY_PATH")
                ])
        case .accessMode: return value == 0 ? "F_OK" : flags(value, [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")])
        case .whence:
            return ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"].indices.contains(Int(int))
                ? ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"][Int(int)] : String(int)
        case .signal: return signalName(int)
        case .clock: return clockNames[Int(int)] ?? String(int)
        case .prot: return value == 0 ? "PROT_NONE" : flags(value, [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")])
        case .mapFlags:
            return flags(
                value,
                [
                    (1, "MAP_SHARED"), (2, "MAP_PRIVATE"), (0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"),
                    (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x4000, "MAP_NORESERVE"),
                    (0x8000, "MAP_POPULATE"), (0x20000, "MAP_STACK"), (0x100000, "MAP_FIXED_NOREPLACE")
                ])
        case .fcntlCommand: return fcntlNames[Int(int)] ?? String(int)
        case .ioctlCommand: return ioctlNames[UInt32(truncatingIfNeeded: value)] ?? hex(value)
        case .prctlOption: return prctlNames[Int(int)] ?? String(int)
        case .archPrctlCode: return archPrctlNames[Int(int)] ?? hex(value)
        case .argv: return stringArray(memory, value)
        case .envp: return envCount(memory, value)
        case .timespecIn: return timespec(memory, value)
        }
    }

    static func output(_ kind: Arg, _ value: UInt64, result: Int64, memory: TraceeMemory) -> String {
        switch kind {
        case .outBuffer: return string(memory, value, limit: Int(min(max(result, 0), 32)), exact: true, truncated: result > 32)
        case .timespecOut: return timespec(memory, value)
        case .statOut: return stat(memory, value)
        default: return hex(value)
        }
    }

    static func hex(_ value: UInt64) -> String { value == 0 ? "NULL" : "0x" + String(value, radix: 16) }

    static func flags(_ value: UInt64, _ names: [(UInt64, String)]) -> String {
        var rest = value
        var parts: [String] = []
        for (bit, name) in names where rest & bit == bit && bit != 0 {
            parts.append(name)
            rest &= ~bit
        }
        if rest != 0 || parts.isEmpty { parts.append(rest == 0 ? "0" : "0x" + String(rest, radix: 16)) }
        return parts.joined(separator: "|")
    }

    static func openFlags(_ value: UInt64) -> String {
        let access = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(value & 3)]
        let rest = flags(
            value & ~3,
            [
                (0o20200000, "O_TMPFILE"), (0o4010000, "O_SYNC"), (0o100, "O_CREAT"), (0o200, "O_EXCL"),
                (0o400, "O_NOCTTY"), (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"),
                (0o10000, "O_DSYNC"), (0o40000, "O_DIRECT"), (0o100000, "O_LARGEFILE"),
                (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"), (0o1000000, "O_NOATIME"),
                (0o2000000, "O_CLOEXEC"), (0o10000000, "O_PATH")
            ])
        return value & ~3 == 0 ? access : access + "|" + rest
    }

    static let clockNames: [Int: String] = [
        0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
        3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW", 5: "CLOCK_REALTIME_COARSE",
        6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME"
    ]
    static let fcntlNames: [Int: String] = [
        0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
        5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 1030: "F_DUPFD_CLOEXEC"
    ]

    static let ioctlNames: [UInt32: String] = [
        0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
        0x540e: "TIOCSCTTY", 0x540f: "TIOCGPGRP", 0x5410: "TIOCSPGRP",
        0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ", 0x541b: "FIONREAD",
        0x5421: "FIONBIO", 0x5412: "TIOCSTI", 0x5451: "FIOCLEX", 0x5450: "FIONCLEX"
    ]
    static let prctlNames: [Int: String] = [
        1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE",
        4: "PR_SET_DUMPABLE", 15: "PR_SET_NAME", 16: "PR_GET_NAME",
        22: "PR_SET_SECCOMP", 21: "PR_GET_SECCOMP", 36: "PR_SET_CHILD_SUBREAPER",
        37: "PR_GET_CHILD_SUBREAPER", 38: "PR_SET_NO_NEW_PRIVS",
        39: "PR_GET_NO_NEW_PRIVS", 23: "PR_CAPBSET_READ", 24: "PR_CAPBSET_DROP",
        47: "PR_CAP_AMBIENT", 0x5356_4d41: "PR_SET_VMA"
    ]
    static let archPrctlNames: [Int: String] = [
        0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
        0x1004: "ARCH_GET_GS", 0x3001: "ARCH_CET_STATUS"
    ]

    static func signalName(_ signal: Int32) -> String {
        let names = [
            "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE",
            "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ",
            "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"
        ]
        return (1...31).contains(signal) ? "SIG" + names[Int(signal) - 1] : String(signal)
    }

    /// A quoted, escaped string: NUL-terminated (paths) or `exact` bytes (buffers).
    static func string(
        _ memory: TraceeMemory, _ address: UInt64, limit: Int, exact: Bool = false,
        truncated: Bool = false
    ) -> String {
        if address == 0 { return "NULL" }
        guard var bytes = try? memory.read(address, count: exact ? limit : min(limit, 256)) else { return hex(address) }
        var cut = truncated
        if !exact {
            if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) } else { cut = true }
        }
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\t"): text += "\\t"
            case 0x20..<0x7f: text.unicodeScalars.append(Unicode.Scalar(byte))
            default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return text + "\"" + (cut ? "..." : "")
    }

    static func stringArray(_ memory: TraceeMemory, _ address: UInt64) -> String {
        if address == 0 { return "NULL" }
        var items: [String] = []
        for index in 0..<32 {
            guard let pointer = try? memory.load(UInt64.self, at: address + UInt64(index * 8)) else { return hex(address) }
            if pointer == 0 { return "[" + items.joined(separator: ", ") + "]" }
            items.append(string(memory, pointer, limit: 256))
        }
        return "[" + items.joined(separator: ", ") + ", ...]"
    }

    static func envCount(_ memory: TraceeMemory, _ address: UInt64) -> String {
        if address == 0 { return "NULL" }
        var count = 0
        while count < 4096, let pointer = try? memory.load(UInt64.self, at: address + UInt64(count * 8)), pointer != 0 {
            count += 1
        }
        return hex(address) + " /* \(count) vars */"
    }

    static func timespec(_ memory: TraceeMemory, _ address: UInt64) -> String {
        guard address != 0, let seconds = try? memory.load(Int64.self, at: address),
            let nanoseconds = try? memory.load(Int64.self, at: address + 8)
        else { return hex(address) }
        return "{tv_sec=\(seconds), tv_nsec=\(nanoseconds)}"
    }

    /// struct stat (x86_64): st_mode at 24, st_size at 48.
    static func stat(_ memory: TraceeMemory, _ address: UInt64) -> String {
        guard address != 0, let mode = try? memory.load(UInt32.self, at: address + 24),
            let size = try? memory.load(Int64.self, at: address + 48)
        else { return hex(address) }
        let types: [UInt32: String] = [
            0o040000: "S_IFDIR", 0o100000: "S_IFREG", 0o120000: "S_IFLNK", 0o020000: "S_IFCHR",
            0o060000: "S_IFBLK", 0o010000: "S_IFIFO", 0o140000: "S_IFSOCK"
        ]
        let type = types[mode & 0o170000] ?? "0" + String(mode & 0o170000, radix: 8)
        return "{st_mode=\(type)|0\(String(mode & 0o7777, radix: 8)), st_size=\(size), ...}"
    }
}
