import Glibc
import Platform

/// stat, lstat, newfstatat, statx, statfs, access, faccessat(2), readlink(at):
/// the path is resolved by the sentry as for open (an O_PATH descriptor
/// under the caller's credentials), then the call is made on that
/// descriptor and the result written into the caller's buffer.
enum Stat {

    /// stat implements Linux syscall stat(2).
    static func stat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try statAt(k, t, dirfd: AT_FDCWD, path: a[0], buffer: a[1], flags: 0)
    }

    /// lstat implements Linux syscall lstat(2).
    static func lstat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try statAt(k, t, dirfd: AT_FDCWD, path: a[0], buffer: a[1], flags: AT.symlinkNoFollow)
    }

    /// newfstatat implements Linux syscall newfstatat(2).
    static func newfstatat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try statAt(k, t, dirfd: a.int32(0), path: a[1], buffer: a[2], flags: a.int32(3))
    }

    static func statAt(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, buffer: UInt64, flags: Int32) throws(Errno) -> SyscallOutcome {
        guard flags & ~(AT.symlinkNoFollow | AT.emptyPath | AT.noAutomount) == 0 else { throw .invalid }
        var info = Glibc.stat()
        try target(k, t, dirfd: dirfd, path: path, flags: flags) { fd throws(Errno) in
            if fstat(fd, &info) != 0 { throw Errno.current }
        }
        if let maps = k.idMaps {
            info.st_uid = maps.uid.inside(info.st_uid)
            info.st_gid = maps.gid.inside(info.st_gid)
        }
        try TraceeMemory(t.hostTid).store(info, at: buffer)
        return .value(0)
    }

    /// statx implements Linux syscall statx(2).
    static func statx(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let flags = a.int32(2)
        let syncType = AT.statxSyncType
        guard flags & ~(AT.symlinkNoFollow | AT.emptyPath | AT.noAutomount | syncType) == 0, flags & syncType != syncType else {
            throw .invalid
        }
        if UInt32(truncatingIfNeeded: a[3]) & 0x8000_0000 != 0 { throw .invalid }  // STATX__RESERVED
        var info = PathCalls.Statx()
        try target(k, t, dirfd: a.int32(0), path: a[1], flags: flags) { fd throws(Errno) in
            let rc = PathCalls.statx(fd, flags: flags & syncType, mask: UInt32(truncatingIfNeeded: a[3]), into: &info)
            if rc < 0 { throw Errno(Int32(-rc)) }
        }
        if let maps = k.idMaps {
            // As the sandbox's user namespace shows them.
            info.stx_uid = maps.uid.inside(info.stx_uid)
            info.stx_gid = maps.gid.inside(info.stx_gid)
        }
        try TraceeMemory(t.hostTid).store(info, at: a[4])
        return .value(0)
    }

    /// statfs implements Linux syscall statfs(2).
    static func statfs(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        var buffer = PathCalls.Statfs()
        try target(k, t, dirfd: AT_FDCWD, path: a[0], flags: 0) { fd throws(Errno) in
            let rc = PathCalls.fstatfs(fd, into: &buffer)
            if rc < 0 { throw Errno(Int32(-rc)) }
        }
        try TraceeMemory(t.hostTid).store(buffer, at: a[1])
        return .value(0)
    }

    /// access implements Linux syscall access(2).
    static func access(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try accessAt(k, t, dirfd: AT_FDCWD, path: a[0], mode: a.int32(1), flags: 0)
    }

    /// faccessat implements Linux syscall faccessat(2) (no flags argument).
    static func faccessat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try accessAt(k, t, dirfd: a.int32(0), path: a[1], mode: a.int32(2), flags: 0)
    }

    /// faccessat2 implements Linux syscall faccessat2(2).
    static func faccessat2(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try accessAt(k, t, dirfd: a.int32(0), path: a[1], mode: a.int32(2), flags: a.int32(3))
    }

    static func accessAt(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, mode: Int32, flags: Int32) throws(Errno) -> SyscallOutcome {
        guard mode & ~7 == 0, flags & ~(AT.eAccess | AT.symlinkNoFollow | AT.emptyPath) == 0 else { throw .invalid }
        // Without AT_EACCESS the check is made with the real ids (access(2)).
        try target(k, t, dirfd: dirfd, path: path, flags: flags, realIDs: flags & AT.eAccess == 0) { fd throws(Errno) in
            let rc = PathCalls.access(fd, mode)
            if rc < 0 { throw Errno(Int32(-rc)) }
        }
        return .value(0)
    }

    /// readlink implements Linux syscall readlink(2).
    static func readlink(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try readlinkAt(k, t, dirfd: AT_FDCWD, path: a[0], buffer: a[1], size: Int64(bitPattern: a[2]))
    }

    /// readlinkat implements Linux syscall readlinkat(2).
    static func readlinkat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try readlinkAt(k, t, dirfd: a.int32(0), path: a[1], buffer: a[2], size: Int64(bitPattern: a[3]))
    }

    static func readlinkAt(_ k: Kernel, _ t: Task, dirfd: Int32, path address: UInt64, buffer: UInt64, size: Int64) throws(Errno) -> SyscallOutcome {
        guard size > 0 else { throw .invalid }
        let memory = TraceeMemory(t.hostTid)
        let path = try PathArgument.read(memory, address)
        if path.isEmpty { throw .noSuchFile }
        let lookup = FileSystem.Lookup(dirfd: dirfd, path: path, followFinal: false)
        let text = try k.withFiles(t) { files, caller, credentials throws(Errno) in
            var selfLink: [UInt8]?
            let fd = try files.open(lookup, caller: caller, flags: OpenFlags.path | O_NOFOLLOW, mode: 0, selfLink: &selfLink)
            defer { close(fd) }
            if let selfLink { return selfLink }
            var info = Glibc.stat()
            guard fstat(fd, &info) == 0 else { throw Errno.current }
            if files.onProcfs(info), let parts = k.procComponents(fd) { try k.checkPtraceAccess(parts, t, credentials) }
            guard info.st_mode & S_IFMT == S_IFLNK else { throw Errno.invalid }
            return try FileSystem.linkText(fd)
        }
        let shown = Array(text.prefix(Int(min(size, Int64(text.count)))))
        try memory.write(shown, at: buffer)
        return .value(shown.count)
    }

    /// Runs `body` on an O_PATH descriptor of what (dirfd, path, flags)
    /// names: the path resolved by the sentry, or with AT_EMPTY_PATH and ""
    /// the dirfd itself; under the caller's credentials (`realIDs`: its real
    /// uid and gid, as access(2) checks).
    @discardableResult
    static func target<T>(
        _ k: Kernel, _ t: Task, dirfd: Int32, path address: UInt64, flags: Int32, realIDs: Bool = false,
        _ body: (Int32) throws(Errno) -> T
    ) throws(Errno) -> T {
        try target(
            k, t, dirfd: dirfd, path: try PathArgument.read(TraceeMemory(t.hostTid), address), flags: flags,
            realIDs: realIDs, body)
    }

    /// `target` with the path already copied out of the caller.
    @discardableResult
    static func target<T>(
        _ k: Kernel, _ t: Task, dirfd: Int32, path: [UInt8], flags: Int32, realIDs: Bool = false,
        _ body: (Int32) throws(Errno) -> T
    ) throws(Errno) -> T {
        let openFlags = OpenFlags.path | (flags & AT.symlinkNoFollow != 0 ? O_NOFOLLOW : 0)
        return try k.withFiles(t, realIDs: realIDs) { files, caller, _ throws(Errno) in
            let fd: Int32
            if path.isEmpty {
                guard flags & AT.emptyPath != 0 else { throw Errno.noSuchFile }
                fd = k.openCallerEntry(t, dirfd == AT_FDCWD ? "cwd" : "fd/\(dirfd)")
                if fd < 0 { throw Errno(EBADF) }
            } else {
                let lookup = FileSystem.Lookup(dirfd: dirfd, path: path, followFinal: flags & AT.symlinkNoFollow == 0)
                fd = try files.open(lookup, caller: caller, flags: openFlags, mode: 0)
            }
            defer { close(fd) }
            return try body(fd)
        }
    }
}
