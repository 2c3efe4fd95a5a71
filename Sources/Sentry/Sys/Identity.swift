import Glibc
import Platform

/// uname and the sandbox's host and domain names.
enum Identity {
    /// The kernel release every sandbox reports, whatever the host runs.
    public static let release = "6.1.0-moat"
    public static let version = "#1 SMP PREEMPT_DYNAMIC Moat"
    static let capSysAdmin: UInt64 = 1 << 21
    static let fieldLength = 65

    /// uname implements Linux syscall uname(2).
    static func uname(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        var bytes: [UInt8] = []
        for field in ["Linux", k.hostname, release, version, "x86_64", k.domainname] {
            var encoded = Array(field.utf8.prefix(fieldLength - 1))
            encoded += [UInt8](repeating: 0, count: fieldLength - encoded.count)
            bytes += encoded
        }
        try TraceeMemory(t.hostTid).write(bytes, at: a[0])
        return .value(0)
    }

    /// sethostname implements Linux syscall sethostname(2), per sandbox.
    static func sethostname(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        k.hostname = try readName(k, t, a)
        return .value(0)
    }

    /// setdomainname implements Linux syscall setdomainname(2), per sandbox.
    static func setdomainname(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> SyscallOutcome {
        k.domainname = try readName(k, t, a)
        return .value(0)
    }

    private static func readName(_ k: Kernel, _ t: Task, _ a: SyscallArgs) throws(Errno) -> String {
        guard let status = HostProc.status(t.hostTid), status.effectiveCaps & capSysAdmin != 0 else {
            throw .notPermitted
        }
        let length = Int(Int64(bitPattern: a[1]))
        guard length >= 0, length < fieldLength else { throw .invalid }
        let bytes = try TraceeMemory(t.hostTid).read(a[0], count: length)
        guard bytes.count == length else { throw .fault }
        return String(decoding: bytes, as: UTF8.self)
    }
}
