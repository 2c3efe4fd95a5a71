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
        let dir = try Scratch.directory("moat-verify")
        defer { Scratch.removeTree(dir) }
        let rootfs = dir + "/rootfs"
        mkdir(rootfs, 0o755)
        try Scratch.buildStatic(VerifyProbe.source, to: rootfs + "/probe", what: "--verify")
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
        let status = Scratch.spawnAndWait(
            "/proc/self/exe",
            [
                "moat", "do", "--rootfs", rootfs, "--writable", "--root", stateRoot,
                "--", "/probe"
            ] + refused, output: dir + "/out", timeout: 120)
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
}
