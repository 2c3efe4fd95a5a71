import Glibc
import Platform

/// chmod, chown, utimensat, truncate: the sentry resolves the path to an
/// O_PATH descriptor under the caller's credentials and changes the file
/// through it (our own /proc/self/fd/N, or AT_EMPTY_PATH).
enum Attributes {
    /// chmod implements Linux syscall chmod(2).
    static func chmod(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try changeMode(k, t, dirfd: AT_FDCWD, path: a[0], mode: mode_t(truncatingIfNeeded: a[1]), flags: 0)
    }

    /// fchmodat implements Linux syscall fchmodat(2) (no flags).
    static func fchmodat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try changeMode(k, t, dirfd: a.int32(0), path: a[1], mode: mode_t(truncatingIfNeeded: a[2]), flags: 0)
    }

    /// fchmodat2 implements Linux syscall fchmodat2(2): AT_SYMLINK_NOFOLLOW (EOPNOTSUPP on a symlink), AT_EMPTY_PATH.
    static func fchmodat2(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let flags = a.int32(3)
        guard flags & ~(AT.symlinkNoFollow | AT.emptyPath) == 0 else { throw .invalid }
        return try changeMode(k, t, dirfd: a.int32(0), path: a[1], mode: mode_t(truncatingIfNeeded: a[2]), flags: flags)
    }

    static func changeMode(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, mode: mode_t, flags: Int32) throws(Errno) -> SyscallOutcome {
        try Stat.target(k, t, dirfd: dirfd, path: path, flags: flags, realIDs: false) { fd throws(Errno) in
            var info = Glibc.stat()
            guard fstat(fd, &info) == 0 else { throw Errno.current }
            if info.st_mode & S_IFMT == S_IFLNK { throw Errno(EOPNOTSUPP) }
            let (base, relative) = (HostProcfs.directory, "self/fd/\(fd)")
            if Glibc.fchmodat(base, relative, mode & 0o7777, 0) != 0 { throw Errno.current }
        }
        return .value(0)
    }

    /// chown implements Linux syscall chown(2).
    static func chown(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try changeOwner(k, t, dirfd: AT_FDCWD, path: a[0], owner: a, flags: 0)
    }

    /// lchown implements Linux syscall lchown(2).
    static func lchown(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try changeOwner(k, t, dirfd: AT_FDCWD, path: a[0], owner: a, flags: AT.symlinkNoFollow)
    }

    /// fchownat implements Linux syscall fchownat(2).
    static func fchownat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let flags = a.int32(4)
        guard flags & ~(AT.symlinkNoFollow | AT.emptyPath) == 0 else { throw .invalid }
        var shifted = a
        shifted.raw = (a[1], a[2], a[3], 0, 0, 0)
        return try changeOwner(k, t, dirfd: a.int32(0), path: a[1], owner: shifted, flags: flags)
    }

    /// `owner`'s arguments 1 and 2 are the uid and gid (-1: unchanged).
    /// Ids of the sandbox's user namespace become the host's (unmapped: EINVAL, as in Linux).
    static func changeOwner(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, owner: SyscallArgs, flags: Int32) throws(Errno) -> SyscallOutcome {
        var uid = UInt32(truncatingIfNeeded: owner[1])
        var gid = UInt32(truncatingIfNeeded: owner[2])
        if let maps = k.idMaps {
            if uid != UInt32.max {
                guard let host = maps.uid.host(uid) else { throw .invalid }
                uid = host
            }
            if gid != UInt32.max {
                guard let host = maps.gid.host(gid) else { throw .invalid }
                gid = host
            }
        }
        try Stat.target(k, t, dirfd: dirfd, path: path, flags: flags, realIDs: false) { fd throws(Errno) in
            if Glibc.fchownat(fd, "", uid, gid, AT.emptyPath) != 0 { throw Errno.current }
        }
        return .value(0)
    }

    /// utimensat implements Linux syscall utimensat(2): a NULL path changes the dirfd's file.
    static func utimensat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        // Linux's order: the times are copied, and with both UTIME_OMIT there
        // is nothing to do (the path is not even looked up); then the flags.
        var times: [timespec]?
        if a[2] != 0 {
            let memory = TraceeMemory(t.hostTid)
            times = [try memory.load(timespec.self, at: a[2]), try memory.load(timespec.self, at: a[2] + 16)]
            let omit = 1 << 30 - 2  // UTIME_OMIT
            if times!.allSatisfy({ $0.tv_nsec == omit }) { return .value(0) }
        }
        let flags = a.int32(3)
        guard flags & ~(AT.symlinkNoFollow | AT.emptyPath) == 0 else { throw .invalid }
        if a[1] == 0 {
            // futimens: the caller's own fd.
            let fd = k.openCallerEntry(t, "fd/\(a.int32(0))")
            if fd < 0 { throw Errno(EBADF) }
            defer { close(fd) }
            try k.withFiles(t) { _, _, _ throws(Errno) in try setTimes(fd, times, nofollow: false) }
            return .value(0)
        }
        try Stat.target(k, t, dirfd: a.int32(0), path: a[1], flags: flags, realIDs: false) { fd throws(Errno) in
            try setTimes(fd, times, nofollow: flags & AT.symlinkNoFollow != 0)
        }
        return .value(0)
    }

    /// utimes implements Linux syscall utimes(2) (microsecond times).
    static func utimes(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try microsecondTimes(k, t, dirfd: AT_FDCWD, path: a[0], times: a[1])
    }

    /// futimesat implements Linux syscall futimesat(2).
    static func futimesat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try microsecondTimes(k, t, dirfd: a.int32(0), path: a[1], times: a[2])
    }

    /// utime implements Linux syscall utime(2) (seconds).
    static func utime(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        var times: [timespec]?
        if a[1] != 0 {
            let memory = TraceeMemory(t.hostTid)
            let access = try memory.load(Int.self, at: a[1])
            let modification = try memory.load(Int.self, at: a[1] + 8)
            times = [timespec(tv_sec: access, tv_nsec: 0), timespec(tv_sec: modification, tv_nsec: 0)]
        }
        try Stat.target(k, t, dirfd: AT_FDCWD, path: a[0], flags: 0, realIDs: false) { fd throws(Errno) in
            try setTimes(fd, times, nofollow: false)
        }
        return .value(0)
    }

    static func microsecondTimes(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, times address: UInt64) throws(Errno) -> SyscallOutcome {
        var times: [timespec]?
        if address != 0 {
            let memory = TraceeMemory(t.hostTid)
            let values = [try memory.load(timeval.self, at: address), try memory.load(timeval.self, at: address + 16)]
            guard values.allSatisfy({ $0.tv_usec >= 0 && $0.tv_usec < 1_000_000 }) else { throw .invalid }
            times = values.map { timespec(tv_sec: $0.tv_sec, tv_nsec: $0.tv_usec * 1000) }
        }
        try Stat.target(k, t, dirfd: dirfd, path: path, flags: 0, realIDs: false) { fd throws(Errno) in
            try setTimes(fd, times, nofollow: false)
        }
        return .value(0)
    }

    /// Sets the times of an O_PATH fd's file (a symlink itself with `nofollow`).
    static func setTimes(_ fd: Int32, _ times: [timespec]?, nofollow: Bool) throws(Errno) {
        // A symlink itself only through AT_EMPTY_PATH; anything else through /proc/self/fd/N.
        let (base, relative) = nofollow ? (fd, "") : (HostProcfs.directory, "self/fd/\(fd)")
        let flags = nofollow ? AT.emptyPath | AT_SYMLINK_NOFOLLOW : 0
        let rc: Int32
        if let times {
            rc = times.withUnsafeBufferPointer { Glibc.utimensat(base, relative, $0.baseAddress, flags) }
        } else {
            rc = Glibc.utimensat(base, relative, nil, flags)
        }
        if rc != 0 { throw Errno.current }
    }

    /// truncate implements Linux syscall truncate(2): the file is opened for
    /// writing under the caller's credentials, then cut.
    static func truncate(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let length = Int64(bitPattern: a[1])
        guard length >= 0 else { throw .invalid }
        let path = try PathArgument.read(TraceeMemory(t.hostTid), a[0])
        if path.isEmpty { throw .noSuchFile }
        try k.withFiles(t) { files, caller, _ throws(Errno) in
            // Only a regular file can be cut (a directory is EISDIR, a FIFO or a
            // device EINVAL, as Linux). It is looked at before it is opened for
            // writing: opening a device may act (a watchdog), a FIFO's would wait.
            let found = try files.open(.init(dirfd: AT_FDCWD, path: path), caller: caller, flags: OpenFlags.path, mode: 0)
            var kind = stat()
            let looked = fstat(found, &kind)
            defer { close(found) }
            guard looked == 0 else { throw Errno.current }
            guard kind.st_mode & S_IFMT != S_IFDIR else { throw Errno(EISDIR) }
            guard kind.st_mode & S_IFMT == S_IFREG else { throw .invalid }
            // Reopened through /proc: the same file, checked for writing under the caller's credentials.
            let fd = HostProcfs.open("self/fd/\(found)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw Errno.current }
            defer { close(fd) }
            // The caller's RLIMIT_FSIZE, not the sentry's, bounds a file it makes longer.
            var info = stat()
            if fstat(fd, &info) == 0, info.st_size < length,
                let limit = ThreadCalls.softLimit(t.group.hostTgid, Int32(RLIMIT_FSIZE.rawValue)), UInt64(length) > limit
            {
                ThreadCalls.tgkill(t.group.hostTgid, t.hostTid, SIGXFSZ)
                throw Errno(EFBIG)
            }
            if ftruncate(fd, off_t(length)) != 0 { throw Errno.current }
        }
        return .value(0)
    }
}
