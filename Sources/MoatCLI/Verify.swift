import Glibc
import OCI
import Platform
import Sentry

/// `moat syscalls --verify`: builds the probe (gcc -static), runs it in a
/// sandbox over a scratch root with `moat do`, and says for each syscall
/// whether what the table declares was seen.
enum Verify {
    enum Seen: String { case verified, failed, notProbed = "not probed" }

    struct Result {
        var seen: [Int32: Seen] = [:]
        /// Why checks failed, by syscall number.
        var failures: [Int32: [String]] = [:]
    }

    static func run(stateRoot: String) throws -> Result {
        guard let gcc = findOnPath("gcc") else {
            throw Failure("--verify builds its probe with gcc: install gcc and libc6-dev")
        }
        var template = Array("/tmp/moat-verify-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("--verify: cannot make a scratch directory: \(Errno.current)") }
        let dir = String(cString: made)
        defer { removeTree(dir) }
        let rootfs = dir + "/rootfs"
        mkdir(rootfs, 0o755)
        try write(VerifyProbe.source, to: dir + "/verify.c")
        let built = spawnAndWait(gcc, ["gcc", "-static", "-O1", "-o", rootfs + "/probe", dir + "/verify.c"], output: dir + "/gcc.log")
        guard built == 0 else {
            let log = HostFile.read(dir + "/gcc.log").map { String(decoding: $0, as: UTF8.self) } ?? ""
            throw Failure("--verify: building the probe failed: \(log.split(separator: "\n").first ?? "gcc exited with \(built)")")
        }
        // Refused numbers are checked for their errno; those beyond the table too.
        let table = SyscallTable.shared
        var refused: [String] = []
        for nr in Int32(0)...SyscallTable.maxNumber where SyscallTable.name(of: nr) != nil {
            switch table.entry(nr)?.handling {
            case .deny(let errno)?: refused.append("\(nr):\(errno.rawValue)")
            case nil: refused.append("\(nr):\(ENOSYS)")
            default: continue
            }
        }
        let status = spawnAndWait("/proc/self/exe", ["moat", "do", "--rootfs", rootfs, "--writable", "--root", stateRoot,
                                                     "--", "/probe"] + refused, output: dir + "/out")
        let output = HostFile.read(dir + "/out").map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard status == 0, output.hasSuffix("done\n") else {
            throw Failure("--verify: the probe did not finish (exit \(status)): \(output.split(separator: "\n").last ?? "no output")")
        }
        return parse(output)
    }

    /// "ok NAME", "fail NAME why", "ok #NR": a syscall is verified when each of its checks passed.
    static func parse(_ output: String) -> Result {
        var result = Result()
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0] == "ok" || parts[0] == "fail" else { continue }
            let name = String(parts[1])
            guard let nr = name.hasPrefix("#") ? Int32(name.dropFirst()) : SyscallTable.number(of: name) else { continue }
            if parts[0] == "fail" {
                result.seen[nr] = .failed
                result.failures[nr, default: []].append(parts.count > 2 ? String(parts[2]) : "")
            } else if result.seen[nr] == nil {
                result.seen[nr] = .verified
            }
        }
        return result
    }

    static func findOnPath(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// Runs a program with stdout and stderr to `output`; its exit code, or 128+signal.
    static func spawnAndWait(_ path: String, _ argv: [String], output: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let args = argv.map { strdup($0) } + [nil]
        defer { args.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, args, environ) == 0 else { return 127 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("--verify: \(path): \(Errno.current)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure("--verify: \(path): \(Errno.current)")
        }
    }

    /// rm -r of the scratch directory (the sandbox made its mount points in it).
    static func removeTree(_ path: String) {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                if Int32(entry.pointee.d_type) == DT_DIR { removeTree(child) } else { unlink(child) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}
