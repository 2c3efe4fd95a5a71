import Glibc
import Platform

/// bind, connect and the sends that name an address. bind and the sends:
/// the address is copied once, and the call is made from the supervisor on
/// a copy of the caller's socket (pidfd_getfd); for a unix socket path the
/// serving thread is chrooted into the sandbox's root with the caller's cwd
/// for the call, so the kernel resolves the path as for the caller, never
/// outside the sandbox, and the socket keeps the exact name (getsockname,
/// getpeername) it was given. connect is the caller's own, checked after.
enum UnixSockets {
    /// bind implements Linux syscall bind(2): every family, from the copied address.
    static func bind(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try bindAddress(k, t, a)
    }

    /// connect implements Linux syscall connect(2). A unix socket path is
    /// resolved by the sentry (a socket file the caller may write), then
    /// the kernel connects in the pivoted root, so the connection is the
    /// caller's own (SO_PEERCRED, waiting on a full backlog). The kernel
    /// reads the path again: at the exit stop the file the peer is bound to
    /// must be the one checked, or the process is killed. Other addresses
    /// run on the host.
    static func connect(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        t.pendingConnect = nil
        let length = Int(Int32(truncatingIfNeeded: a[2]))
        guard length >= 0, length <= 128 else { throw .invalid }
        let address = try TraceeMemory(t.hostTid).read(a[1], count: length)
        guard address.count == length else { throw .fault }
        guard namesUnixPath(address), !Linux.rootless else { return .runOnHost }
        let path = Array(address[2...].prefix { $0 != 0 })
        let lookup = FileSystem.Lookup(dirfd: AT_FDCWD, path: path)
        var info = Glibc.stat()
        var directory = Glibc.stat()
        try k.withFiles(t) { files, caller, _ throws(Errno) in
            let fd = try files.open(lookup, caller: caller, flags: OpenFlags.path, mode: 0)
            defer { close(fd) }
            guard fstat(fd, &info) == 0 else { throw Errno.current }
            guard info.st_mode & S_IFMT == S_IFSOCK else { throw Errno(ECONNREFUSED) }
            let rc = PathCalls.access(fd, W_OK)
            if rc < 0 { throw Errno(Int32(-rc)) }
            let parent = try files.parent(lookup, caller: caller)
            defer { close(parent.fd) }
            guard fstat(parent.fd, &directory) == 0 else { throw Errno.current }
        }
        // The socket itself, taken now: at the exit its fd number may name another.
        let socket = k.takeCallerFD(t, a.int32(0))
        if socket < 0 { throw Errno(-socket) }
        t.pendingConnect = PendingConnect(
            socket: socket, devices: [UInt64(info.st_dev), UInt64(directory.st_dev)],
            inode: UInt32(truncatingIfNeeded: info.st_ino))
        return .runOnHostToExit
    }

    /// The socket file a connect was allowed to reach: its inode, and the
    /// devices sock_diag may name for it. That is its own st_dev, or, on an
    /// overlay whose upper layer is another file system, the overlay's,
    /// which stat shows for the directory holding it (never for the file).
    final class PendingConnect {
        /// Our copy of the caller's socket (closed with this).
        let socket: Int32
        let devices: [UInt64]
        let inode: UInt32

        init(socket: Int32, devices: [UInt64], inode: UInt32) {
            (self.socket, self.devices, self.inode) = (socket, devices, inode)
        }

        deinit { close(socket) }
    }

    /// At the exit of a connect the sentry allowed: kills the process if the
    /// socket taken at entry is not connected although the call succeeded
    /// (another thread swapped the fd meanwhile), or if its peer is bound
    /// to another file than the one checked (the path was rewritten, or the
    /// file swapped). A peer the kernel can no longer describe (closed
    /// already) proves nothing either way: the kernel's walk stayed inside
    /// the pivoted root.
    static func verifyConnect(_ k: Kernel, _ t: Task, _ expected: PendingConnect, result: Int64) {
        guard result == 0 else { return }
        switch UnixPathCalls.peerFile(expected.socket) {
        case .success(let peer):
            guard !expected.devices.contains(peer.device) || peer.inode != expected.inode else { return }
        case .failure(let error):
            guard error.rawValue == ENOTCONN else { return }
        }
        _ = Glibc.kill(t.group.hostTgid, SIGKILL)
        let line = "moat: killed a process whose connect reached a socket other than the one checked\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }

    /// sendto implements Linux syscall sendto(2) to a unix socket path (the
    /// data copied once, sent without waiting: a full buffer is EAGAIN);
    /// sends without an address or to other families run on the host.
    static func sendto(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let length = Int(Int32(truncatingIfNeeded: a[5]))
        guard a[4] != 0, length >= 3, length <= 128 else { return .runOnHost }
        let memory = TraceeMemory(t.hostTid)
        let address = try memory.read(a[4], count: length)
        guard address.count == length else { throw .fault }
        guard namesUnixPath(address), !Linux.rootless else { return .runOnHost }
        let size = Int(a[2])
        guard size <= 1 << 20 else { throw Errno(EMSGSIZE) }
        let data = try memory.read(a[1], count: size)
        guard data.count == size else { throw .fault }
        let sent = try inRoot(
            k, t, socketFD: a.int32(0), address: address, operation: .sendto,
            data: data, flags: a.int32(3), control: [])
        return .value(sent)
    }

    /// sendmsg implements Linux syscall sendmsg(2) to a unix socket path named
    /// in msg_name: the header, the data and the control messages it points
    /// to are copied once and sent as sendto does (passed fds and
    /// credentials rebuilt by ControlMessages). Without a name, or to other
    /// families, it runs on the host.
    static func sendmsg(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let memory = TraceeMemory(t.hostTid)
        var message = try Message(memory, at: a[1])
        guard message.toUnixPath, !Linux.rootless else { return .runOnHost }
        try message.readContents(memory)
        return .value(try send(k, t, socketFD: a.int32(0), message, flags: a.int32(2)))
    }

    /// sendmmsg implements Linux syscall sendmmsg(2): served as sendmsg, one
    /// message after another, when any message names a unix socket path; run
    /// on the host when none does. Like Linux it returns how many were sent,
    /// and fails only if the first one does.
    static func sendmmsg(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let memory = TraceeMemory(t.hostTid)
        let count = min(Int(UInt32(truncatingIfNeeded: a[2])), 1024)  // UIO_MAXIOV
        var messages: [Message] = []
        for index in 0..<count { messages.append(try Message(memory, at: a[1] &+ UInt64(index * MultipleMessageHeader.size))) }
        guard messages.contains(where: \.toUnixPath), !Linux.rootless else { return .runOnHost }
        var sent = 0
        for index in 0..<count {
            do {
                try messages[index].readContents(memory)
                // On the tracing thread (a stop): it must not wait; a full buffer is EAGAIN.
                let bytes = try send(k, t, socketFD: a.int32(0), messages[index], flags: a.int32(3) | Int32(MSG_DONTWAIT))
                try memory.store(UInt32(bytes), at: a[1] &+ UInt64(index * MultipleMessageHeader.size + MultipleMessageHeader.lengthOffset))
                sent += 1
            } catch {
                if sent == 0 { throw error }
                break
            }
        }
        return .value(sent)
    }

    /// One msghdr copied out of the caller, once: its name first (whether the
    /// sentry serves it), then what it carries.
    struct Message {
        let header: MessageHeader
        let address: [UInt8]
        var data: [UInt8] = []
        var control: [UInt8] = []

        init(_ memory: TraceeMemory, at headerAddress: UInt64) throws(Errno) {
            let bytes = try memory.read(headerAddress, count: MessageHeader.size)
            guard let header = MessageHeader(bytes) else { throw .fault }
            self.header = header
            if header.name == 0 || header.nameLength == 0 {
                address = []
            } else {
                guard header.nameLength <= 128 else { throw .invalid }
                address = try memory.read(header.name, count: header.nameLength)
                guard address.count == header.nameLength else { throw .fault }
            }
        }

        var toUnixPath: Bool { UnixSockets.namesUnixPath(address) }

        /// The data (the iovecs joined, at most 1 MiB) and the control bytes.
        mutating func readContents(_ memory: TraceeMemory) throws(Errno) {
            let count = header.vectorCount
            guard count >= 0, count <= 1024 else { throw .invalid }
            let vectors = try memory.read(header.vectors, count: count * IOVector.size)
            guard vectors.count == count * IOVector.size else { throw .fault }
            for index in 0..<count {
                guard let vector = IOVector(vectors, index: index) else { throw .fault }
                guard vector.length >= 0, data.count + vector.length <= 1 << 20 else { throw Errno(EMSGSIZE) }
                let chunk = try memory.read(vector.base, count: vector.length)
                guard chunk.count == vector.length else { throw .fault }
                data += chunk
            }
            let controlLength = header.controlLength
            guard controlLength >= 0, controlLength <= 20480 else { throw Errno(ENOBUFS) }  // optmem_max
            if controlLength > 0 {
                control = try memory.read(header.control, count: controlLength)
                guard control.count == controlLength else { throw .fault }
            }
        }
    }

    static func send(_ k: Kernel, _ t: Task, socketFD: Int32, _ message: Message, flags: Int32) throws(Errno) -> Int {
        try inRoot(
            k, t, socketFD: socketFD, address: message.address, operation: .sendto,
            data: message.data, flags: flags, control: message.control)
    }

    static func bindAddress(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        let length = Int(Int32(truncatingIfNeeded: a[2]))
        guard length >= 0, length <= 128 else { throw .invalid }  // beyond sockaddr_storage, as Linux
        let address = try TraceeMemory(t.hostTid).read(a[1], count: length)
        guard address.count == length else { throw .fault }
        let unixPath = namesUnixPath(address)
        guard unixPath && !Linux.rootless else {
            return unixPath && Linux.rootless ? .runOnHost : .value(try bindCopied(k, t, a, address))
        }
        _ = try inRoot(k, t, socketFD: a.int32(0), address: address, operation: .bind, data: [], flags: 0)
        return .value(0)
    }

    /// A unix socket path (not an abstract name, not autobind): what the sentry resolves in the sandbox.
    static func namesUnixPath(_ address: [UInt8]) -> Bool {
        address.count > 2 && Int32(address[0]) | Int32(address[1]) << 8 == AF_UNIX && address[2] != 0
    }

    /// Makes the call on a copy of the caller's socket from inside the sandbox's root.
    /// (Without root the supervisor cannot chroot: rootless mode leaves unix
    /// socket paths to the kernel inside the pivoted root, hence `serveUnixPaths`.)
    /// `control`: the caller's control messages for a send (rebuilt by
    /// ControlMessages, which also attaches its credentials).
    static func inRoot(
        _ k: Kernel, _ t: Task, socketFD: Int32, address: [UInt8], operation: UnixPathCalls.Operation,
        data: [UInt8], flags: Int32, control callerControl: [UInt8]? = nil
    ) throws(Errno) -> Int {
        let socket = k.takeCallerFD(t, socketFD)
        if socket < 0 { throw Errno(-socket) }
        defer { close(socket) }
        let cwd = k.openCallerEntry(t, "cwd")
        if cwd < 0 { throw Errno.noSuchProcess }
        defer { close(cwd) }
        let rc = try k.withFiles(t) { files, _, credentials throws(Errno) in
            // The peer sees the caller's ids (SO_PEERCRED, SCM_CREDENTIALS), not the supervisor's.
            let ids: [UInt32] = [
                credentials.uids.first ?? 0, credentials.uids.dropFirst().first ?? 0,
                credentials.gids.first ?? 0, credentials.gids.dropFirst().first ?? 0
            ]
            let control = try callerControl.map { bytes throws(Errno) in
                try ControlMessages(caller: bytes, of: t, credentials: credentials) { vpid in k.pids.group(vpid: vpid)?.hostTgid }
            }
            defer { control?.close() }
            var request = UnixPathCalls.Request(
                socket: socket, address: address, operation: operation, sandboxRoot: files.root, callerCWD: cwd,
                hostRoot: k.hostRoot, home: k.homeDirectory, callerIDs: ids, callerCapabilities: credentials.effective)
            request.data = data
            request.flags = flags
            if let control {
                request.control = control.bytes
                request.controlCapabilities = ControlMessages.neededCapabilities
            }
            return UnixPathCalls.perform(request)
        }
        // The supervisor sends without SIGPIPE; the caller gets it as Linux would give it.
        if rc == -Int(EPIPE) && operation == .sendto && flags & Int32(MSG_NOSIGNAL) == 0 {
            ThreadCalls.tgkill(t.group.hostTgid, t.hostTid, SIGPIPE)
        }
        if rc < 0 { throw Errno(Int32(-rc)) }
        return rc
    }

    /// bind(2) of the caller's socket to exactly the bytes copied.
    static func bindCopied(_ k: Kernel, _ t: Task, _ a: SyscallArgs, _ address: [UInt8]) throws(Errno) -> Int {
        let socket = k.takeCallerFD(t, a.int32(0))
        if socket < 0 { throw Errno(-socket) }
        defer { close(socket) }
        let rc = try k.withFiles(t) { _, _, _ throws(Errno) in
            address.withUnsafeBytes {
                Glibc.bind(socket, $0.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
        }
        if rc != 0 { throw Errno.current }
        return 0
    }
}
