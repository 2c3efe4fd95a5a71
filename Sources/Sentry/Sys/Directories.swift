import Glibc
import Platform

/// mkdir, mknod, unlink, rmdir, rename, link, symlink: the sentry resolves
/// the directory that holds the last component (VFS/FileSystem.parent) and
/// makes the *at call on it under the caller's credentials.
enum Directories {
    /// mkdir implements Linux syscall mkdir(2).
    static func mkdir(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try makeDirectory(k, t, dirfd: AT_FDCWD, path: a[0], mode: mode_t(truncatingIfNeeded: a[1]))
    }

    /// mkdirat implements Linux syscall mkdirat(2).
    static func mkdirat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try makeDirectory(k, t, dirfd: a.int32(0), path: a[1], mode: mode_t(truncatingIfNeeded: a[2]))
    }

    static func makeDirectory(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, mode: mode_t) throws(Errno) -> SyscallOutcome {
        try atParent(k, t, dirfd: dirfd, path: path) { parent, name throws(Errno) in
            try name.withPath { Glibc.mkdirat(parent, $0, mode & 0o7777) }
        }
    }

    /// mknod implements Linux syscall mknod(2).
    static func mknod(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try makeNode(k, t, dirfd: AT_FDCWD, path: a[0], mode: mode_t(truncatingIfNeeded: a[1]), device: a[2])
    }

    /// mknodat implements Linux syscall mknodat(2).
    static func mknodat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try makeNode(k, t, dirfd: a.int32(0), path: a[1], mode: mode_t(truncatingIfNeeded: a[2]), device: a[3])
    }

    /// Regular files, fifos and sockets; device nodes are EPERM (a sandbox
    /// gets its devices from the config, never by making them).
    static func makeNode(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, mode: mode_t, device: UInt64) throws(Errno) -> SyscallOutcome {
        let type = mode & S_IFMT
        guard [0, S_IFREG, S_IFIFO, S_IFSOCK].contains(type) else {
            if type == S_IFCHR || type == S_IFBLK { throw .notPermitted }
            throw .invalid
        }
        return try atParent(k, t, dirfd: dirfd, path: path) { parent, name throws(Errno) in
            try name.withPath { Glibc.mknodat(parent, $0, mode & (S_IFMT | 0o7777), 0) }
        }
    }

    /// unlink implements Linux syscall unlink(2).
    static func unlink(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try remove(k, t, dirfd: AT_FDCWD, path: a[0], flags: 0)
    }

    /// rmdir implements Linux syscall rmdir(2).
    static func rmdir(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try remove(k, t, dirfd: AT_FDCWD, path: a[0], flags: AT_REMOVEDIR)
    }

    /// unlinkat implements Linux syscall unlinkat(2).
    static func unlinkat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let flags = a.int32(2)
        guard flags & ~AT_REMOVEDIR == 0 else { throw .invalid }
        return try remove(k, t, dirfd: a.int32(0), path: a[1], flags: flags)
    }

    static func remove(_ k: Kernel, _ t: Task, dirfd: Int32, path: UInt64, flags: Int32) throws(Errno) -> SyscallOutcome {
        // The root has no parent to remove it from: Linux's rmdir says EBUSY (a "." is EINVAL).
        try atParent(k, t, dirfd: dirfd, path: path, atRoot: flags & AT_REMOVEDIR != 0 ? Errno(EBUSY) : nil) { parent, name throws(Errno) in
            try name.withPath { Glibc.unlinkat(parent, $0, flags) }
        }
    }

    /// rename implements Linux syscall rename(2).
    static func rename(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try renameAt(k, t, from: (AT_FDCWD, a[0]), to: (AT_FDCWD, a[1]), flags: 0)
    }

    /// renameat implements Linux syscall renameat(2).
    static func renameat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try renameAt(k, t, from: (a.int32(0), a[1]), to: (a.int32(2), a[3]), flags: 0)
    }

    /// renameat2 implements Linux syscall renameat2(2): NOREPLACE, EXCHANGE, WHITEOUT.
    static func renameat2(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try renameAt(k, t, from: (a.int32(0), a[1]), to: (a.int32(2), a[3]), flags: UInt32(truncatingIfNeeded: a[4]))
    }

    static func renameAt(_ k: Kernel, _ t: Task, from: (Int32, UInt64), to: (Int32, UInt64), flags: UInt32) throws(Errno) -> SyscallOutcome {
        let (old, new) = try twoPaths(t, from.1, to.1)
        try k.withFiles(t) { files, caller, _ throws(Errno) in
            let source = try files.parent(.init(dirfd: from.0, path: old, followFinal: false), caller: caller)
            defer { close(source.fd) }
            let target = try files.parent(.init(dirfd: to.0, path: new, followFinal: false), caller: caller)
            defer { close(target.fd) }
            let rc = try source.name.withPath { oldName throws(Errno) in
                try target.name.withPath { PathCalls.renameat2(source.fd, oldName, target.fd, $0, flags: flags) }
            }
            if rc < 0 { throw Errno(Int32(-rc)) }
        }
        return .value(0)
    }

    /// link implements Linux syscall link(2).
    static func link(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try linkAt(k, t, from: (AT_FDCWD, a[0]), to: (AT_FDCWD, a[1]), flags: 0)
    }

    /// linkat implements Linux syscall linkat(2) (AT_SYMLINK_FOLLOW; AT_EMPTY_PATH is ENOENT,
    /// as for a caller without CAP_DAC_READ_SEARCH).
    static func linkat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let flags = a.int32(4)
        guard flags & ~(AT_SYMLINK_FOLLOW | AT.emptyPath) == 0 else { throw .invalid }
        return try linkAt(k, t, from: (a.int32(0), a[1]), to: (a.int32(2), a[3]), flags: flags)
    }

    static func linkAt(_ k: Kernel, _ t: Task, from: (Int32, UInt64), to: (Int32, UInt64), flags: Int32) throws(Errno) -> SyscallOutcome {
        let (old, new) = try twoPaths(t, from.1, to.1)
        try k.withFiles(t) { files, caller, _ throws(Errno) in
            let target = try files.parent(.init(dirfd: to.0, path: new, followFinal: false), caller: caller)
            defer { close(target.fd) }
            let rc: Int32
            if flags & AT_SYMLINK_FOLLOW != 0 {
                // Link what the path leads to: its O_PATH fd, through our own /proc/self/fd.
                let source = try files.open(.init(dirfd: from.0, path: old), caller: caller, flags: OpenFlags.path, mode: 0)
                defer { close(source) }
                let (base, relative) = (HostProcfs.directory, "self/fd/\(source)")
                rc = try target.name.withPath { Glibc.linkat(base, relative, target.fd, $0, AT_SYMLINK_FOLLOW) }
            } else {
                let source = try files.parent(.init(dirfd: from.0, path: old, followFinal: false), caller: caller)
                defer { close(source.fd) }
                rc = try source.name.withPath { oldName throws(Errno) in
                    try target.name.withPath { Glibc.linkat(source.fd, oldName, target.fd, $0, 0) }
                }
            }
            if rc < 0 { throw Errno.current }
        }
        return .value(0)
    }

    /// symlink implements Linux syscall symlink(2).
    static func symlink(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try symlinkAt(k, t, target: a[0], dirfd: AT_FDCWD, path: a[1])
    }

    /// symlinkat implements Linux syscall symlinkat(2).
    static func symlinkat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try symlinkAt(k, t, target: a[0], dirfd: a.int32(1), path: a[2])
    }

    /// The link's text is stored as given: the sentry resolves it when followed.
    static func symlinkAt(_ k: Kernel, _ t: Task, target address: UInt64, dirfd: Int32, path: UInt64) throws(Errno) -> SyscallOutcome {
        let text = try PathArgument.read(TraceeMemory(t.hostTid), address)
        if text.isEmpty { throw .noSuchFile }
        return try atParent(k, t, dirfd: dirfd, path: path) { parent, name throws(Errno) in
            try text.withPath { linkText throws(Errno) in try name.withPath { Glibc.symlinkat(linkText, parent, $0) } }
        }
    }

    /// The two paths of rename and link, each copied once; ENOENT for an empty one.
    static func twoPaths(_ t: Task, _ first: UInt64, _ second: UInt64) throws(Errno) -> ([UInt8], [UInt8]) {
        let memory = TraceeMemory(t.hostTid)
        let paths = (try PathArgument.read(memory, first), try PathArgument.read(memory, second))
        if paths.0.isEmpty || paths.1.isEmpty { throw .noSuchFile }
        return paths
    }

    /// Reads the path once, resolves its directory and runs `call` (0 or -1 with errno) on it.
    /// Hands the caller an fd (a socket pair and the fd: three slots for a
    /// moment). Linux's chdir takes no fd slot, so a caller at its
    /// RLIMIT_NOFILE must not fail with EMFILE: its soft limit is raised for
    /// the handing over (up to the hard limit, or past it where the
    /// supervisor may) and put back.
    static func giveWithinLimit(_ k: Kernel, _ t: Task, _ fd: Int32, scratch: UInt64) throws(Errno)
        -> (fd: Int32, deferredSignal: Int32)
    {
        do { return try k.tracer.give(fd, to: t.hostTid, process: t.group.hostTgid, scratch: scratch) } catch {
            var limits: [UInt64] = [0, 0]
            guard error.rawValue == EMFILE,
                ThreadCalls.limits(t.group.hostTgid, Int32(RLIMIT_NOFILE.rawValue), set: nil, got: &limits) == 0
            else { throw error }
            var raised = [limits[0] + 3, max(limits[1], limits[0] + 3)]
            if ThreadCalls.limits(t.group.hostTgid, Int32(RLIMIT_NOFILE.rawValue), set: &raised, got: nil) != 0 { throw error }
            defer { _ = ThreadCalls.limits(t.group.hostTgid, Int32(RLIMIT_NOFILE.rawValue), set: &limits, got: nil) }
            return try k.tracer.give(fd, to: t.hostTid, process: t.group.hostTgid, scratch: scratch)
        }
    }

    static func atParent(
        _ k: Kernel, _ t: Task, dirfd: Int32, path address: UInt64, atRoot: Errno? = nil,
        _ call: (Int32, [UInt8]) throws(Errno) -> Int32
    ) throws(Errno) -> SyscallOutcome {
        let path = try PathArgument.read(TraceeMemory(t.hostTid), address)
        if path.isEmpty { throw .noSuchFile }
        if let atRoot, path.allSatisfy({ $0 == UInt8(ascii: "/") }) { throw atRoot }
        try k.withFiles(t) { files, caller, _ throws(Errno) in
            let parent = try files.parent(.init(dirfd: dirfd, path: path, followFinal: false), caller: caller)
            defer { close(parent.fd) }
            if try call(parent.fd, parent.name) < 0 { throw Errno.current }
        }
        return .value(0)
    }

    /// chdir implements Linux syscall chdir(2). The sentry resolves the
    /// directory and checks search permission under the caller's
    /// credentials; the caller is then handed an fd of it and made to
    /// fchdir to it (injected at this ptrace stop), so no path is resolved
    /// by the kernel on its behalf. (A stop cannot take SECCOMP_ADDFD: the fd
    /// crosses over a socketpair the caller makes.)
    static func chdir(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let path = try PathArgument.read(TraceeMemory(t.hostTid), a[0])
        if path.isEmpty { throw .noSuchFile }
        let directory = try k.withFiles(t) { files, caller, _ throws(Errno) in
            let fd = try files.open(.init(dirfd: AT_FDCWD, path: path), caller: caller, flags: OpenFlags.path | O_DIRECTORY, mode: 0)
            let rc = PathCalls.access(fd, X_OK)
            if rc < 0 {
                close(fd)
                throw Errno(Int32(-rc))
            }
            return fd
        }
        defer { close(directory) }
        // Out of the chdir (skipped), then the calls that move the cwd.
        k.tracer.complete(t.hostTid, value: 0)
        var signals = [try k.tracer.stepOutOfSyscall(t.hostTid)]
        let scratch = (a.stackPointer &- 128 &- 1024) & ~15
        let given = try giveWithinLimit(k, t, directory, scratch: scratch)
        signals.append(given.deferredSignal)
        let moved = try k.tracer.inject(t.hostTid, syscall: Int(SyscallTable.number(of: "fchdir")!), [Int(given.fd)])
        let closed = try k.tracer.inject(t.hostTid, syscall: Int(SyscallTable.number(of: "close")!), [Int(given.fd)])
        signals += [moved.deferredSignal, closed.deferredSignal]
        // A signal that came meanwhile is sent again, to be delivered as usual.
        for signal in Set(signals) where signal != 0 { ThreadCalls.tgkill(t.group.hostTgid, t.hostTid, signal) }
        return .value(moved.result)
    }
}
