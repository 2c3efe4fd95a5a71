import Glibc
import Platform

/// open, openat, openat2, creat: the sentry resolves the path in the
/// sandbox's file system (VFS/FileSystem), opens it under the caller's
/// credentials and donates the descriptor; reads and writes on it then run
/// on the host at native speed.
enum Files {
    /// open implements Linux syscall open(2).
    static func open(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try openFile(k, t, dirfd: AT_FDCWD, pathAt: a[0], flags: a.int32(1), mode: mode_t(truncatingIfNeeded: a[2]))
    }

    /// openat implements Linux syscall openat(2).
    static func openat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try openFile(k, t, dirfd: a.int32(0), pathAt: a[1], flags: a.int32(2), mode: mode_t(truncatingIfNeeded: a[3]))
    }

    /// creat implements Linux syscall creat(2).
    static func creat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try openFile(
            k, t, dirfd: AT_FDCWD, pathAt: a[0], flags: O_CREAT | O_WRONLY | O_TRUNC,
            mode: mode_t(truncatingIfNeeded: a[1]))
    }

    /// openat2 implements Linux syscall openat2(2). RESOLVE_BENEATH and
    /// RESOLVE_IN_ROOT are confined to the dirfd, which is inside the
    /// sandbox: the kernel resolves them from the sentry's copy of it.
    /// RESOLVE_NO_SYMLINKS and NO_MAGICLINKS go through the sentry's walk;
    /// RESOLVE_CACHED is EAGAIN (allowed: the caller retries without it);
    /// NO_XDEV alone is ENOSYS (callers fall back to openat).
    static func openat2(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let size = Int(a[3])
        guard size >= OpenHow.size, size <= 4096 else { throw .invalid }
        let memory = TraceeMemory(t.hostTid)
        let bytes = try memory.read(a[2], count: size)
        guard bytes.count == size, let how = OpenHow(bytes) else { throw .fault }
        // Bytes past the known struct must be zero (E2BIG otherwise, as Linux).
        if bytes[OpenHow.size...].contains(where: { $0 != 0 }) { throw Errno(E2BIG) }
        let (flags, mode, resolve) = (how.flags, how.mode, how.resolve)
        guard flags >> 32 == 0, resolve & ~Resolve.all == 0 else { throw .invalid }
        guard mode & ~0o7777 == 0, mode == 0 || Int32(flags) & (O_CREAT | OpenFlags.temporaryFile) != 0 else { throw .invalid }
        if resolve & Resolve.cached != 0 { throw Errno(EAGAIN) }
        if resolve & (Resolve.beneath | Resolve.inRoot) != 0 {
            return try openBeneath(
                k, t, dirfd: a.int32(0), pathAt: a[1], flags: Int32(truncatingIfNeeded: flags),
                mode: mode_t(mode), resolve: resolve, memory: memory)
        }
        if resolve & Resolve.noXDev != 0 { throw .notImplemented }
        return try openFile(
            k, t, dirfd: a.int32(0), pathAt: a[1], flags: Int32(truncatingIfNeeded: flags),
            mode: mode_t(mode), noSymlinks: resolve & Resolve.noSymlinks != 0, memory: memory)
    }

    /// RESOLVE_BENEATH or IN_ROOT: the kernel's walk, anchored at the
    /// caller's dirfd (reopened from the host's /proc), cannot leave it.
    static func openBeneath(
        _ k: Kernel, _ t: Task, dirfd: Int32, pathAt address: UInt64, flags: Int32, mode: mode_t,
        resolve: UInt64, memory: TraceeMemory
    ) throws(Errno) -> SyscallOutcome {
        if flags & OpenFlags.path != 0 { return .runOnHost }
        let path = try PathArgument.read(memory, address)
        let creates = flags & O_CREAT != 0 || flags & OpenFlags.temporaryFile == OpenFlags.temporaryFile
        let fd = try k.withFiles(t) { _, _, credentials throws(Errno) in
            let anchor = HostProcfs.open(dirfd == AT_FDCWD ? "\(t.hostTid)/cwd" : "\(t.hostTid)/fd/\(dirfd)", OpenFlags.path | O_CLOEXEC)
            if anchor < 0 { throw Errno(EBADF) }
            defer { close(anchor) }
            let fd = FileSystem.openat2(
                anchor, path, UInt64(UInt32(bitPattern: flags | O_CLOEXEC)), creates ? mode : 0,
                resolve | Resolve.noMagicLinks)
            if fd < 0 { throw Errno(-fd) }
            // Checked as any open: a device node, another process's /proc files below a /proc dirfd.
            return try k.vetOpened(fd, flags: flags, t, credentials)
        }
        guard let fd else { return .runOnHost }
        return .donate(fd, cloexec: flags & O_CLOEXEC != 0)
    }

    static func openFile(
        _ k: Kernel, _ t: Task, dirfd: Int32, pathAt address: UInt64, flags: Int32, mode: mode_t,
        noSymlinks: Bool = false, memory: TraceeMemory? = nil
    ) throws(Errno) -> SyscallOutcome {
        // SECCOMP_ADDFD cannot pass an O_PATH file (the kernel's fget skips
        // them): the kernel opens it inside the pivoted root. An O_PATH fd
        // reads and writes nothing; every path call made through it comes
        // back to the sentry.
        if flags & OpenFlags.path != 0 { return .runOnHost }
        let path = try PathArgument.read(memory ?? TraceeMemory(t.hostTid), address)
        if path.isEmpty { throw .noSuchFile }
        // Without root, a /proc file opened by the supervisor would show ids as
        // the host sees them (procfs renders for its opener): the kernel opens those.
        if Linux.rootless, let files = k.files, files.isProc(FileSystem.components(path)),
            path.first == UInt8(ascii: "/")
        {
            return .runOnHost
        }
        // O_CREAT|O_EXCL never follows a final symlink: it fails with EEXIST.
        let exclusive = flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL
        let lookup = FileSystem.Lookup(
            dirfd: dirfd, path: path, followFinal: flags & O_NOFOLLOW == 0 && !exclusive,
            noSymlinks: noSymlinks)
        let creates = flags & O_CREAT != 0 || flags & OpenFlags.temporaryFile == OpenFlags.temporaryFile
        let fd = try k.withFiles(t) { files, caller, credentials throws(Errno) in
            let fd = try files.open(lookup, caller: caller, flags: flags, mode: creates ? mode & 0o7777 : 0)
            return try k.vetOpened(fd, flags: flags, t, credentials)
        }
        guard let fd else { return .runOnHost }
        return .donate(fd, cloexec: flags & O_CLOEXEC != 0)
    }

    /// setuid, setgroups, capset, umask ...: run by the host; the caller's
    /// Resolve.cached credentials are dropped (every thread's: glibc changes them all).
    static func forgetCredentials(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        k.pids.forEachTask { $0.credentials = nil }
        return .runOnHost
    }
}
