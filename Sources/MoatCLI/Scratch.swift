import Glibc
import OCI
import Platform

/// Scratch directories, programs built from embedded C, and child processes
/// run to completion: what `syscalls --verify` and `bench` share.
enum Scratch {
    /// A new directory named after `prefix` and this process under /tmp, or
    /// with `inMemory` under /dev/shm when it can be written (a tmpfs, as
    /// /run is on a normal system; it may be noexec, so no programs there).
    /// Directories a killed run left there (their process is gone) go first.
    static func directory(_ prefix: String, inMemory: Bool = false) throws -> String {
        let parent = inMemory && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        removeLeftovers(prefix, in: parent)
        var template = Array("\(parent)/\(prefix)-\(getpid())-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("cannot make a scratch directory: \(Errno.current)") }
        return String(cString: made)
    }

    /// Removes `<prefix>-<pid>-XXXXXX` directories under `parent` whose
    /// process no longer exists: a run that was killed could not clean up.
    static func removeLeftovers(_ prefix: String, in parent: String) {
        guard let dir = opendir(parent) else { return }
        var stale: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard name.hasPrefix(prefix + "-") else { continue }
            let fields = name.dropFirst(prefix.count + 1).split(separator: "-")
            // Another prefix that begins with this one (moat-bench-state for moat-bench) has no pid here.
            guard fields.count == 2, fields[1].count == 6, let pid = pid_t(fields[0]), pid > 0 else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            // /tmp is everyone's: only a real directory of ours (a symlink
            // planted under such a name would point the removal anywhere;
            // in the sticky /tmp nobody else can swap ours for one).
            var info = stat()
            guard lstat(parent + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() else { continue }
            stale.append(parent + "/" + name)
        }
        closedir(dir)
        for path in stale { removeTree(path) }
    }

    /// Compiles C `source` with gcc -static into `output`.
    static func buildStatic(_ source: String, to output: String, what: String) throws {
        guard let gcc = findOnPath("gcc") else {
            throw Failure("\(what) builds its probe with gcc: install gcc and libc6-dev")
        }
        try write(source, to: output + ".c")
        defer {
            unlink(output + ".c")
            unlink(output + ".log")
        }
        let built = spawnAndWait(gcc, ["gcc", "-static", "-O1", "-o", output, output + ".c"], output: output + ".log")
        guard built == 0 else {
            let log = HostFile.read(output + ".log").map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw Failure("\(what): building the probe failed: \(log.split(separator: "\n").first ?? "gcc exited with \(built)")")
        }
    }

    static func findOnPath(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// Starts a program with stdout and stderr to `output` and stdin from /dev/null.
    static func spawn(_ path: String, _ argv: [String], output: String) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let args = argv.map { strdup($0) } + [nil]
        defer { for arg in args { free(arg) } }
        var pid: pid_t = 0
        return posix_spawn(&pid, path, &actions, nil, args, environ) == 0 ? pid : -1
    }

    /// Runs a program as `spawn` does and waits: its exit code, or 128+signal
    /// (SIGKILL once `timeout` seconds have passed, if given).
    static func spawnAndWait(_ path: String, _ argv: [String], output: String, timeout: Int? = nil) -> Int32 {
        let pid = spawn(path, argv, output: output)
        guard pid > 0 else { return 127 }
        var status: Int32 = 0
        if let timeout {
            var waited = 0
            while waitpid(pid, &status, WNOHANG) == 0 {
                if waited >= timeout * 100 { kill(pid, SIGKILL) }
                usleep(10_000)
                waited += 1
            }
        } else {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure("\(path): \(Errno.current)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure("\(path): \(Errno.current)")
        }
    }

    /// rm -r of the scratch directory (the sandbox made its mount points in
    /// it). Every step is relative to an fd opened with O_NOFOLLOW, so a
    /// symlink put in the tree (by a workload, between two steps) is removed,
    /// never followed.
    static func removeTree(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { removeContents(of: fd) }
        rmdir(path)
    }

    /// Empties the directory `fd` (and closes it).
    private static func removeContents(of fd: Int32) {
        guard let dir = fdopendir(fd) else {
            close(fd)
            return
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            if Int32(entry.pointee.d_type) == DT_DIR {
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { removeContents(of: child) }
                unlinkat(fd, name, AT_REMOVEDIR)
            } else {
                unlinkat(fd, name, 0)
            }
        }
    }
}

/// Where container state lives by default: /run/moat as root; without root
/// (rootless mode) under $XDG_RUNTIME_DIR, else /tmp, per user.
let defaultStateRoot: String = {
    if geteuid() == 0 { return "/run/moat" }
    if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty { return runtime + "/moat" }
    return "/tmp/moat-\(geteuid())"
}()
