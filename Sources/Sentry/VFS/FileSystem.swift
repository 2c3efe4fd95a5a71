import Glibc
import Platform

/// The workload's file namespace as the sentry resolves it: the tree of the
/// sandbox's mount namespace (the rootfs or its overlay, and every mount the
/// config made), reached from an O_PATH descriptor of its root. Every lookup
/// is an openat2 from that descriptor with RESOLVE_IN_ROOT, so `..` and
/// absolute symlinks stop at the sandbox's root, and magic links never
/// resolve by the kernel's rules: the sentry follows them itself, by the
/// path they show inside the sandbox. `/proc/self` and `/proc/thread-self`
/// name the calling thread (the supervisor has no pid in the sandbox's
/// namespace, so the kernel cannot answer them for it).
final class FileSystem {
    let root: Int32
    /// Where procfs is mounted inside the sandbox, as path components: the
    /// last one the config mounts (or /proc), where `self` links are made.
    let procMount: [[UInt8]]
    /// Every procfs the config mounts (each its own superblock), with its
    /// device number: what the sentry checks on /proc holds on all of them.
    let procMounts: [(components: [[UInt8]], device: dev_t)]

    static let maxSymlinkHops = 40

    init(root: Int32, procMounts: [String] = ["/proc"]) {
        self.root = root
        self.procMount = FileSystem.components(Array((procMounts.last ?? "/proc").utf8))
        self.procMounts = procMounts.compactMap { path in
            let proc = FileSystem.openat2(root, Array(path.utf8), UInt64(OpenFlags.path | O_CLOEXEC), 0, Resolve.inRoot)
            guard proc >= 0 else { return nil }
            defer { close(proc) }
            var info = stat()
            return fstat(proc, &info) == 0 ? (FileSystem.components(Array(path.utf8)), info.st_dev) : nil
        }
    }

    func onProcfs(_ info: stat) -> Bool { procMounts.contains { $0.device == info.st_dev } }

    /// Whether `components` name a procfs mount point or something below one.
    func isProc(_ components: [[UInt8]]) -> Bool { procMounts.contains { components.starts(with: $0.components) } }

    /// `components` below whichever procfs holds them (the path after its mount point); nil outside.
    func procRelative(_ components: [[UInt8]]) -> [String]? {
        guard
            let mount = procMounts.map(\.components).filter({ components.count > $0.count && components.starts(with: $0) }).max(by: {
                $0.count < $1.count
            })
        else { return nil }
        return components.dropFirst(mount.count).map { String(decoding: $0, as: UTF8.self) }
    }

    deinit { close(root) }

    /// The caller of a path syscall: whose cwd, fds and /proc/self.
    struct Caller {
        let hostTid: HostTid
        let vpid: Int32
        let vtid: Int32
        /// Host tgid of a sandbox pid (for /proc/<pid>/fd/N of pipes and sockets).
        let hostPid: (Int32) -> HostTid?
        /// Reads a link of the caller's own /proc entry (cwd, fd/N), with the
        /// supervisor's power if the caller's credentials are refused.
        var readOwnLink: (String) -> [UInt8]? = { HostProcfs.readLink($0) }
    }

    /// Where a lookup starts and what it names.
    struct Lookup {
        var dirfd: Int32
        var path: [UInt8]
        /// Follow a symlink in the last component.
        var followFinal = true
        /// openat2's RESOLVE_NO_SYMLINKS asked by the workload.
        var noSymlinks = false
    }

    /// What a path resolved to.
    enum Target {
        /// A path inside the sandbox with no symlink left but (maybe) the last component.
        case path([UInt8])
        /// A magic link that names no path (a pipe, socket or anonymous inode):
        /// only reopening it through the host's /proc reaches it.
        case hostProc(String)
        /// /proc/self or /proc/thread-self itself, not followed: its text.
        case link([UInt8])
    }

    // MARK: - Opening

    /// Opens what `lookup` names with `flags` (O_CLOEXEC added: the fd is
    /// ours until donated). Call under the caller's credentials. `selfLink`
    /// gets the text of /proc/self (or thread-self) when that link itself is
    /// what was named (readlink needs it; the kernel would answer for us).
    func open(
        _ lookup: Lookup, caller: Caller, flags: Int32, mode: mode_t,
        selfLink: UnsafeMutablePointer<[UInt8]?>? = nil
    ) throws(Errno) -> Int32 {
        let flags = UInt64(UInt32(bitPattern: (flags | O_CLOEXEC) & ~O_NOFOLLOW | (lookup.followFinal ? 0 : O_NOFOLLOW)))
        let full = try start(lookup, caller: caller) + [UInt8(ascii: "/")] + lookup.path
        // /proc/self itself, not followed: the kernel would give the supervisor's answer.
        let namesSelf =
            !lookup.followFinal
            && FileSystem.components(full).last.map {
                $0 == Array("self".utf8)
                    || $0 == Array("thread-self".utf8)
            } == true
        // The kernel's walk from the root: right unless it met a magic link
        // (ELOOP) or procfs's self (ENOENT, with a symlink on the way).
        let direct = FileSystem.openat2(
            root, full, flags, mode,
            Resolve.inRoot
                | (lookup.noSymlinks ? Resolve.noSymlinks : Resolve.noMagicLinks))
        if direct >= 0 && !namesSelf { return direct }
        if direct >= 0 { close(direct) }
        // EAGAIN: `..` raced with renames or mounts on the host; the sentry's
        // own walk resolves `..` by itself and leaves the kernel none.
        if direct < 0 && direct != -EAGAIN && (lookup.noSymlinks || (direct != -ENOENT && direct != -ELOOP)) {
            throw Errno(-direct)
        }
        if direct == -ENOENT {
            let plain = FileSystem.openat2(
                root, full, UInt64(OpenFlags.path | O_CLOEXEC) | (flags & UInt64(O_NOFOLLOW)), 0,
                Resolve.inRoot | Resolve.noSymlinks)
            if plain >= 0 { close(plain) }
            if plain != -ELOOP { throw Errno(ENOENT) }
        }
        switch try walk(full, lookup, caller) {
        case .path(let path):
            let fd = FileSystem.openat2(root, path, flags, mode, Resolve.inRoot | Resolve.noSymlinks)
            if fd < 0 { throw Errno(-fd) }
            return fd
        case .hostProc(let relative):
            let fd = HostProcfs.open(relative, Int32(truncatingIfNeeded: flags))
            if fd < 0 { throw Errno.current }
            return fd
        case .link(let text):
            // Only O_PATH opens a symlink itself.
            if Int32(truncatingIfNeeded: flags) & OpenFlags.path == 0 { throw Errno(ELOOP) }
            selfLink?.pointee = text
            let fd = FileSystem.openat2(
                root, FileSystem.joined(procMount + [Array("self".utf8)]), flags, 0,
                Resolve.inRoot | Resolve.noSymlinks)
            if fd < 0 { throw Errno(-fd) }
            return fd
        }
    }

    /// For calls that act on a name in a directory (mkdir, unlink, rename,
    /// link, symlink, mknod): an O_PATH descriptor of the directory that
    /// holds the last component (resolved as any path), and that component
    /// (with its trailing slash, which the kernel then checks).
    func parent(_ lookup: Lookup, caller: Caller) throws(Errno) -> (fd: Int32, name: [UInt8]) {
        var path = lookup.path
        var trailing: [UInt8] = []
        while path.count > 1 && path.last == UInt8(ascii: "/") {
            path.removeLast()
            trailing = [UInt8(ascii: "/")]
        }
        let directory: [UInt8]
        let name: [UInt8]
        if path == [UInt8(ascii: "/")] {
            (directory, name) = ([UInt8(ascii: "/")], [UInt8(ascii: ".")])
        } else if let slash = path.lastIndex(of: UInt8(ascii: "/")) {
            directory = slash == 0 ? [UInt8(ascii: "/")] : Array(path[..<slash])
            name = Array(path[(slash + 1)...]) + trailing
        } else {
            (directory, name) = ([UInt8(ascii: ".")], path + trailing)
        }
        let parentLookup = Lookup(dirfd: lookup.dirfd, path: directory, followFinal: true, noSymlinks: lookup.noSymlinks)
        let fd = try open(parentLookup, caller: caller, flags: OpenFlags.path | O_DIRECTORY, mode: 0)
        return (fd, name)
    }

    /// The absolute path a relative lookup starts from: the cwd or the dirfd,
    /// as the sandbox names them (the host's /proc shows the path inside the
    /// sandbox's mount namespace).
    private func start(_ lookup: Lookup, caller: Caller) throws(Errno) -> [UInt8] {
        if lookup.path.first == UInt8(ascii: "/") { return [] }
        let link = lookup.dirfd == AT_FDCWD ? "\(caller.hostTid)/cwd" : "\(caller.hostTid)/fd/\(lookup.dirfd)"
        guard let text = caller.readOwnLink(link) else { throw Errno(EBADF) }
        guard text.first == UInt8(ascii: "/") else { throw Errno(ENOTDIR) }
        return text
    }

    /// The sentry's walk: one component at a time, each opened O_PATH and
    /// O_NOFOLLOW below the last (with RESOLVE_NO_SYMLINKS: a component
    /// swapped for a symlink meanwhile fails instead of being followed);
    /// symlinks are read and followed here, at most 40 of them.
    private func walk(_ full: [UInt8], _ lookup: Lookup, _ caller: Caller) throws(Errno) -> Target {
        var current: [[UInt8]] = []
        var pending = Array(FileSystem.components(full).reversed())
        let trailingSlash = full.last == UInt8(ascii: "/")
        var hops = 0
        while let name = pending.popLast() {
            let isFinal = pending.isEmpty
            if name == [UInt8(ascii: ".")] { continue }
            if name == Array("..".utf8) {
                if !current.isEmpty { current.removeLast() }
                continue
            }
            let follow = !isFinal || lookup.followFinal || trailingSlash
            if procMounts.contains(where: { $0.components == current }) {
                let vpid = Array(String(caller.vpid).utf8)
                let selfText: [[UInt8]]? =
                    switch name {
                    case Array("self".utf8): [vpid]
                    case Array("thread-self".utf8): [vpid, Array("task".utf8), Array(String(caller.vtid).utf8)]
                    default: nil
                    }
                if let selfText {
                    if !follow { return .link(Array(FileSystem.joined(selfText).dropFirst())) }
                    pending += selfText.reversed()
                    continue
                }
            }
            if !follow {
                current.append(name)
                break
            }
            let candidate = current + [name]
            let fd = FileSystem.openat2(
                root, FileSystem.joined(candidate), UInt64(OpenFlags.path | O_NOFOLLOW | O_CLOEXEC), 0,
                Resolve.inRoot | Resolve.noSymlinks)
            if fd < 0 {
                // A missing last component is for the final call to report (or create).
                if fd == -ENOENT && isFinal {
                    current.append(name)
                    break
                }
                throw Errno(-fd)
            }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Errno.current }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                current.append(name)
                continue
            }
            if lookup.noSymlinks { throw Errno(ELOOP) }
            hops += 1
            if hops > FileSystem.maxSymlinkHops { throw Errno(ELOOP) }
            let text = try FileSystem.linkText(fd)
            // A memfd's or a deleted file's fd/N shows a path that names
            // nothing (/memfd:x, "/tmp/f (deleted)"): Linux reopens the file
            // itself, and so does the host's /proc for a final component.
            let gone = text.starts(with: Array("/memfd:".utf8)) || text.reversed().starts(with: Array(" (deleted)".utf8).reversed())
            if gone && onProcfs(info) && isFinal, let relative = hostProcPath(candidate, caller) {
                return .hostProc(relative)
            }
            if text.first == UInt8(ascii: "/") {
                // An ordinary absolute symlink, or a magic link followed by the path it shows.
                current = []
            } else if onProcfs(info) && text.contains(UInt8(ascii: ":")) {
                // pipe:[N], socket:[N], anon_inode:...: only a final component can reopen it.
                guard isFinal, let relative = hostProcPath(candidate, caller) else { throw Errno(ENOTDIR) }
                return .hostProc(relative)
            }
            pending += FileSystem.components(text).reversed()
        }
        return .path(FileSystem.joined(current) + (trailingSlash ? [UInt8(ascii: "/")] : []))
    }

    /// /proc/<vpid>/fd/N (or task/<vtid>/fd/N) as the host's /proc names it.
    private func hostProcPath(_ components: [[UInt8]], _ caller: Caller) -> String? {
        guard let rest = procRelative(components), rest.count >= 3, let vpid = Int32(rest[0]), let host = caller.hostPid(vpid) else { return nil }
        return ([String(host)] + rest.dropFirst()).joined(separator: "/")
    }

    // MARK: - Helpers

    static func linkText(_ fd: Int32) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let n = buffer.withUnsafeMutableBytes { readlinkat(fd, "", $0.baseAddress!, $0.count) }
        if n < 0 { throw Errno.current }
        return Array(buffer[..<n])
    }

    static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: UInt8(ascii: "/")).map(Array.init)
    }

    static func joined(_ components: [[UInt8]]) -> [UInt8] {
        components.isEmpty ? [UInt8(ascii: "/")] : components.reduce(into: []) { $0 += [UInt8(ascii: "/")] + $1 }
    }

    /// openat2 with a path of raw bytes (not necessarily UTF-8): the fd or -errno.
    /// With RESOLVE_IN_ROOT or BENEATH the kernel answers EAGAIN when a rename
    /// or mount anywhere on the host raced with a `..` it walked (it cannot
    /// prove `..` stayed inside); the walk is tried again a few times, then
    /// EAGAIN is the answer (a host renaming without pause would otherwise
    /// keep the sentry spinning: `open` then walks the path itself).
    static func openat2(_ dirfd: Int32, _ path: [UInt8], _ flags: UInt64, _ mode: mode_t, _ resolve: UInt64) -> Int32 {
        (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { name in
                var rc = Int32(-EAGAIN)
                var tries = 0
                while rc == -EAGAIN && tries < 8 {
                    rc = Int32(truncatingIfNeeded: PathCalls.openat2(dirfd, name.baseAddress!, flags: flags, mode: UInt64(mode), resolve: resolve))
                    tries += 1
                }
                return rc
            }
        }
    }
}
