import Glibc
import Platform

/// getxattr, setxattr, listxattr, removexattr and their l- variants, and
/// inotify_add_watch: the path is resolved by the sentry under the caller's
/// credentials, and the call made on what it names: through our own
/// /proc/self/fd/N of its O_PATH descriptor (a magic link straight to the
/// file), or for a symlink itself (l- variants) by name in its directory.
enum ExtendedAttributes {
    static let nameMaximum = 255, valueMaximum = 65536

    /// getxattr implements Linux syscall getxattr(2).
    static func getxattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try get(k, t, a, nofollow: false)
    }

    /// lgetxattr implements Linux syscall lgetxattr(2).
    static func lgetxattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try get(k, t, a, nofollow: true)
    }

    static func get(_ k: Kernel, _ t: Task, _ a: SyscallArgs, nofollow: Bool) throws(Errno) -> SyscallOutcome {
        let name = try attributeName(t, a[1])
        let size = min(Int(a[3]), valueMaximum)
        var value = [UInt8](repeating: 0, count: size)
        let got = try onFile(k, t, path: a[0], nofollow: nofollow) { dirfd, path, flags throws(Errno) in
            try name.withPath { namePointer throws(Errno) in
                value.withUnsafeMutableBytes { PathCalls.getxattr(dirfd, path, flags: flags, name: namePointer, into: $0.baseAddress, size: size) }
            }
        }
        if got < 0 { throw Errno(Int32(-got)) }
        if size > 0 { try TraceeMemory(t.hostTid).write(Array(value[..<got]), at: a[2]) }
        return .value(got)
    }

    /// setxattr implements Linux syscall setxattr(2).
    static func setxattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try set(k, t, a, nofollow: false)
    }

    /// lsetxattr implements Linux syscall lsetxattr(2).
    static func lsetxattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try set(k, t, a, nofollow: true)
    }

    static func set(_ k: Kernel, _ t: Task, _ a: SyscallArgs, nofollow: Bool) throws(Errno) -> SyscallOutcome {
        // As Linux: the flags are checked before any argument is read.
        guard a.int32(4) & ~3 == 0 else { throw .invalid }  // XATTR_CREATE, XATTR_REPLACE
        let name = try attributeName(t, a[1])
        guard Int(a[3]) <= valueMaximum else { throw Errno(E2BIG) }
        let value = try TraceeMemory(t.hostTid).read(a[2], count: Int(a[3]))
        guard value.count == Int(a[3]) else { throw .fault }
        let rc = try onFile(k, t, path: a[0], nofollow: nofollow) { dirfd, path, flags throws(Errno) in
            try name.withPath { namePointer throws(Errno) in
                value.withUnsafeBytes {
                    PathCalls.setxattr(dirfd, path, flags: flags, name: namePointer, value: $0.baseAddress, size: value.count, xattrFlags: a.int32(4))
                }
            }
        }
        if rc < 0 { throw Errno(Int32(-rc)) }
        return .value(0)
    }

    /// listxattr implements Linux syscall listxattr(2).
    static func listxattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try list(k, t, a, nofollow: false)
    }

    /// llistxattr implements Linux syscall llistxattr(2).
    static func llistxattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try list(k, t, a, nofollow: true)
    }

    static func list(_ k: Kernel, _ t: Task, _ a: SyscallArgs, nofollow: Bool) throws(Errno) -> SyscallOutcome {
        let size = min(Int(a[2]), valueMaximum)
        var names = [CChar](repeating: 0, count: size)
        let got = try onFile(k, t, path: a[0], nofollow: nofollow) { dirfd, path, flags throws(Errno) in
            names.withUnsafeMutableBufferPointer { PathCalls.listxattr(dirfd, path, flags: flags, into: $0.baseAddress, size: size) }
        }
        if got < 0 { throw Errno(Int32(-got)) }
        if size > 0 { try TraceeMemory(t.hostTid).write(names[..<got].map { UInt8(bitPattern: $0) }, at: a[1]) }
        return .value(got)
    }

    /// removexattr implements Linux syscall removexattr(2).
    static func removexattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try remove(k, t, a, nofollow: false)
    }

    /// lremovexattr implements Linux syscall lremovexattr(2).
    static func lremovexattr(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try remove(k, t, a, nofollow: true)
    }

    static func remove(_ k: Kernel, _ t: Task, _ a: SyscallArgs, nofollow: Bool) throws(Errno) -> SyscallOutcome {
        let name = try attributeName(t, a[1])
        let rc = try onFile(k, t, path: a[0], nofollow: nofollow) { dirfd, path, flags throws(Errno) in
            try name.withPath { PathCalls.removexattr(dirfd, path, flags: flags, name: $0) }
        }
        if rc < 0 { throw Errno(Int32(-rc)) }
        return .value(0)
    }

    /// inotify_add_watch implements Linux syscall inotify_add_watch(2) on a
    /// copy of the caller's inotify fd (the watch lands in the same instance).
    static func inotifyAddWatch(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let dontFollow = Inotify.dontFollow
        let mask = UInt32(truncatingIfNeeded: a[2])
        let inotify = k.takeCallerFD(t, a.int32(0))
        if inotify < 0 { throw Errno(-inotify) }
        defer { close(inotify) }
        let watch = try Stat.target(
            k, t, dirfd: AT_FDCWD, path: a[1], flags: mask & dontFollow != 0 ? AT.symlinkNoFollow : 0,
            realIDs: false
        ) { fd throws(Errno) in
            // The fd is already the symlink itself when not following: our magic link leads to it.
            PathCalls.inotifyWatch(inotify, proc: HostProcfs.directory, fd: fd, mask: mask & ~dontFollow, home: k.homeDirectory)
        }
        if watch < 0 { throw Errno(Int32(-watch)) }
        return .value(watch)
    }

    /// An attribute name, copied once (at most 255 bytes, else ERANGE).
    static func attributeName(_ t: Task, _ address: UInt64) throws(Errno) -> [UInt8] {
        let name = try PathArgument.read(TraceeMemory(t.hostTid), address)
        guard !name.isEmpty, name.count <= nameMaximum else { throw Errno(ERANGE) }
        return name
    }

    /// Runs `call` with (dirfd, path, at_flags) naming the file the path leads to.
    static func onFile(
        _ k: Kernel, _ t: Task, path address: UInt64, nofollow: Bool,
        _ call: (Int32, UnsafePointer<CChar>, Int32) throws(Errno) -> Int
    ) throws(Errno) -> Int {
        let path = try PathArgument.read(TraceeMemory(t.hostTid), address)
        if path.isEmpty { throw .noSuchFile }
        return try k.withFiles(t) { files, caller, _ throws(Errno) in
            let lookup = FileSystem.Lookup(dirfd: AT_FDCWD, path: path, followFinal: !nofollow)
            let fd = try files.open(lookup, caller: caller, flags: OpenFlags.path | (nofollow ? O_NOFOLLOW : 0), mode: 0)
            defer { close(fd) }
            var info = Glibc.stat()
            guard fstat(fd, &info) == 0 else { throw Errno.current }
            if info.st_mode & S_IFMT == S_IFLNK {
                let parent = try files.parent(lookup, caller: caller)
                defer { close(parent.fd) }
                return try parent.name.withPath { name throws(Errno) in try call(parent.fd, name, AT_SYMLINK_NOFOLLOW) }
            }
            return try Array("self/fd/\(fd)".utf8).withPath { relative throws(Errno) in try call(HostProcfs.directory, relative, 0) }
        }
    }
}
