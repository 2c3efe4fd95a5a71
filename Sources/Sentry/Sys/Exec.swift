import Glibc
import Platform

/// execve, execveat: the sentry resolves the program (and each `#!`
/// interpreter after it) in the sandbox's file system and checks it under
/// the caller's credentials; the kernel then loads it inside the pivoted
/// root. The kernel reads the path argument again, so at the exec stop,
/// before the new program runs one instruction, the sentry checks that the
/// kernel acted on the same bytes and the same file: AT_EXECFN must be the
/// name made of the path it copied, and /proc/<pid>/exe the file it
/// resolved. A process whose exec fails the check (another thread rewrote
/// the path, or swapped a file, after the sentry looked) is killed.
enum Exec {
    /// What the sentry allowed, to compare with what the kernel did.
    struct Expected {
        /// The kernel's name for the program (AT_EXECFN): the path as given,
        /// or /dev/fd/N[/path] for execveat relative to a descriptor.
        let filename: [UInt8]
        /// The file that will run: the program, or its last interpreter. Nil
        /// when that is neither ELF nor a script: a binfmt_misc handler the
        /// host registered may run it through a program of its own.
        let file: (device: UInt64, inode: UInt64)?
    }

    /// execve implements Linux syscall execve(2).
    static func execve(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try exec(k, t, dirfd: AT_FDCWD, pathAt: a[0], flags: 0)
    }

    /// execveat implements Linux syscall execveat(2).
    static func execveat(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        try exec(k, t, dirfd: a.int32(0), pathAt: a[1], flags: a.int32(4))
    }

    /// The kernel follows at most this many interpreters (exec_binprm's depth).
    static let maxInterpreters = 5

    static func exec(_ k: Kernel, _ t: Task, dirfd: Int32, pathAt address: UInt64, flags: Int32) throws(Errno) -> SyscallOutcome {
        guard flags & ~(AT.symlinkNoFollow | AT.emptyPath) == 0 else { throw .invalid }
        let path = try PathArgument.read(TraceeMemory(t.hostTid), address)
        if path.isEmpty && flags & AT.emptyPath == 0 { throw .noSuchFile }
        t.expectedExec = nil
        var program = try Stat.target(k, t, dirfd: dirfd, path: path, flags: flags) { fd throws(Errno) in
            try checkRunnable(fd, symlinkNoFollow: flags & AT.symlinkNoFollow != 0)
        }
        // `#!`: the kernel runs the interpreter named in the first line,
        // resolved from the caller's cwd; the sentry looks it up the same way.
        var depth = 0
        while let interpreter = program.script {
            depth += 1
            if depth > maxInterpreters { throw Errno(ELOOP) }
            program = try Stat.target(k, t, dirfd: AT_FDCWD, path: interpreter, flags: 0) { fd throws(Errno) in
                try checkRunnable(fd, symlinkNoFollow: false)
            }
        }
        t.expectedExec = Expected(
            filename: kernelFilename(dirfd: dirfd, path: path),
            file: program.isELF ? (program.device, program.inode) : nil)
        // A script its caller wrote through a donated fd is no longer open for writing.
        k.waitForDonationsInFlight()
        return .runOnHost
    }

    /// The file an exec would run, as the kernel checks it.
    struct Runnable {
        let device: UInt64
        let inode: UInt64
        /// The interpreter a `#!` first line names, if it has one.
        let script: [UInt8]?
        let isELF: Bool
    }

    /// The kernel's checks on a file to execute: a regular file (a final
    /// symlink with AT_SYMLINK_NOFOLLOW is ELOOP), execute permission under
    /// the caller's credentials, not on a noexec mount.
    static func checkRunnable(_ fd: Int32, symlinkNoFollow: Bool) throws(Errno) -> Runnable {
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { throw Errno.current }
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK && symlinkNoFollow { throw Errno(ELOOP) }
        guard type == S_IFREG else { throw Errno(EACCES) }
        let rc = PathCalls.access(fd, X_OK)
        if rc < 0 { throw Errno(Int32(-rc)) }
        var fs = PathCalls.Statfs()
        if PathCalls.fstatfs(fd, into: &fs) == 0 && UInt(fs.f_flags) & MountFlags.noExec != 0 { throw Errno(EACCES) }
        let start = header(fd)
        return Runnable(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), script: ScriptHeader.interpreter(in: start),
            isELF: start.starts(with: [0x7f, 0x45, 0x4c, 0x46]))
    }

    /// The first bytes of the file, as binfmt_script reads them, reopened
    /// through the supervisor's /proc under the caller's credentials. An
    /// execute-only script the caller cannot read yields none: the kernel
    /// still runs its interpreter, unchecked here, which then cannot read it
    /// either (and the exec stop still checks the path bytes).
    static func header(_ fd: Int32) -> [UInt8] {
        let readable = HostProcfs.open("self/fd/\(fd)", O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard readable >= 0 else { return [] }
        defer { close(readable) }
        var buffer = [UInt8](repeating: 0, count: ScriptHeader.size)
        let n = buffer.withUnsafeMutableBytes { pread(readable, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[..<n]) : []
    }

    /// bprm->filename: the name the kernel gives the program (AT_EXECFN, and
    /// the path a script's interpreter is handed).
    static func kernelFilename(dirfd: Int32, path: [UInt8]) -> [UInt8] {
        if dirfd == AT_FDCWD || path.first == UInt8(ascii: "/") { return path }
        if path.isEmpty { return Array("/dev/fd/\(dirfd)".utf8) }
        return Array("/dev/fd/\(dirfd)/".utf8) + path
    }

    /// At the exec stop of `tid`, before the new program runs: did the
    /// kernel run what the sentry allowed? Kills the process and says why if not.
    static func verify(tid: HostTid, expected: Expected?) {
        let verdict = check(tid: tid, expected: expected)
        guard let problem = verdict else { return }
        _ = Glibc.kill(tid, SIGKILL)
        let line = "moat: killed a process whose execve \(problem)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }

    /// Why the exec in `tid` is not the one allowed, or nil when it is.
    static func check(tid: HostTid, expected: Expected?) -> String? {
        guard let expected else { return "was not checked by the sentry" }
        guard let auxv = HostProcfs.read("\(tid)/auxv"), let address = auxiliaryValue(auxv, type: 31 /* AT_EXECFN */) else {
            return "left no AT_EXECFN"
        }
        let shown = try? TraceeMemory(tid).read(address, count: expected.filename.count + 1)
        guard shown == expected.filename + [0] else { return "ran a path other than the one checked (rewritten meanwhile)" }
        guard let file = expected.file else { return nil }
        var info = Glibc.stat()
        guard fstatat(HostProcfs.directory, "\(tid)/exe", &info, 0) == 0,
            UInt64(info.st_dev) == file.device, UInt64(info.st_ino) == file.inode
        else {
            return "ran a file other than the one checked (swapped meanwhile)"
        }
        return nil
    }

    /// The value of auxiliary vector entry `type` (pairs of 64-bit words).
    static func auxiliaryValue(_ auxv: [UInt8], type: UInt64) -> UInt64? {
        auxv.withUnsafeBytes { raw -> UInt64? in
            var offset = 0
            while offset + 16 <= raw.count {
                let key = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if key == 0 { return nil }
                if key == type { return raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self) }
                offset += 16
            }
            return nil
        }
    }
}

/// The `#!` line of a script, parsed as the kernel's binfmt_script does.
enum ScriptHeader {
    /// BINPRM_BUF_SIZE: the kernel looks no further.
    static let size = 256

    /// The interpreter's path, or nil when `bytes` (the file's first bytes)
    /// is not a script the kernel would run: no `#!`, no name, or a name
    /// cut off by the end of the buffer.
    static func interpreter(in bytes: [UInt8]) -> [UInt8]? {
        parse(bytes)?.interpreter
    }

    /// The interpreter and its one optional argument.
    static func parse(_ bytes: [UInt8]) -> (interpreter: [UInt8], argument: [UInt8]?)? {
        var buffer = Array(bytes.prefix(size))
        buffer += [UInt8](repeating: 0, count: size - buffer.count)
        guard buffer[0] == UInt8(ascii: "#"), buffer[1] == UInt8(ascii: "!") else { return nil }
        func spaceTab(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        func terminator(_ byte: UInt8) -> Bool { spaceTab(byte) || byte == 0 }
        // The line ends at the newline, or at the buffer's last byte if the
        // interpreter's name ends (space, tab, NUL) before it.
        let bufferEnd = size - 1
        var lineEnd: Int
        if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            lineEnd = newline
        } else {
            guard let first = (2...bufferEnd).first(where: { !spaceTab(buffer[$0]) }) else { return nil }
            guard (first...bufferEnd).contains(where: { terminator(buffer[$0]) }) else { return nil }
            lineEnd = bufferEnd
        }
        while lineEnd > 2 && spaceTab(buffer[lineEnd - 1]) { lineEnd -= 1 }
        guard let nameStart = (2..<max(2, lineEnd)).first(where: { !spaceTab(buffer[$0]) }) else { return nil }
        let nameEnd = (nameStart..<lineEnd).first(where: { terminator(buffer[$0]) }) ?? lineEnd
        var argument: [UInt8]?
        if nameEnd < lineEnd && buffer[nameEnd] != 0,
            let argumentStart = (nameEnd..<lineEnd).first(where: { !spaceTab(buffer[$0]) })
        {
            let text = buffer[argumentStart..<lineEnd]
            argument = Array(text.prefix { $0 != 0 })
        }
        let name = Array(buffer[nameStart..<nameEnd])
        return name.isEmpty ? nil : (name, argument)
    }
}
