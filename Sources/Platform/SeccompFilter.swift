import CShims
import Glibc

/// What the filter does with one syscall number.
public enum FilterAction: Equatable, Sendable {
    /// Stop for the tracer; the data is the syscall number, so dispatch needs no register read.
    case trace
    case allow
    case errno(Int32)
    /// Allow when `(arg & mask) == 0`, otherwise fail with the errno (clone's namespace flags).
    case allowUnlessBits(argument: Int32, mask: UInt64, errno: Int32)
}

/// A classic-BPF seccomp program exported by libseccomp.
public struct SeccompProgram: Sendable {
    public let instructions: [UInt64]   // struct sock_filter is 8 bytes

    public init(instructions: [UInt64]) { self.instructions = instructions }

    public static let auditArchX86_64: UInt32 = 0xC000_003E
    public static let auditArchI386: UInt32 = 0x4000_0003

    /// Builds the program: unknown numbers fail with `defaultErrno`, any
    /// arch but x86_64 (int $0x80, x32) kills the whole process.
    public static func build(defaultErrno: Int32, rules: [(number: Int32, action: FilterAction)]) throws(Errno) -> SeccompProgram {
        guard let ctx = moat_seccomp_new(UInt32(defaultErrno)) else { throw Errno.invalid }
        defer { moat_seccomp_release(ctx) }
        for rule in rules {
            let rc: Int32
            switch rule.action {
            case .trace: rc = moat_seccomp_add_trace(ctx, rule.number, UInt16(rule.number))
            case .allow: rc = moat_seccomp_add_allow(ctx, rule.number)
            case .errno(let value) where value == defaultErrno:
                continue  // libseccomp refuses a rule that repeats the default action
            case .errno(let value): rc = moat_seccomp_add_errno(ctx, rule.number, UInt16(value))
            case .allowUnlessBits(let argument, let mask, let value):
                rc = moat_seccomp_add_masked(ctx, rule.number, argument, mask, UInt16(value))
            }
            if rc < 0 { throw Errno(-rc) }
        }
        var raw: UnsafeMutableRawPointer?
        let count = moat_seccomp_export(ctx, &raw)
        guard count > 0, let raw else { throw Errno(Int32(-count)) }
        defer { free(raw) }
        let words = raw.bindMemory(to: UInt64.self, capacity: count)
        return SeccompProgram(instructions: Array(UnsafeBufferPointer(start: words, count: count)))
    }

    /// Runs the program on (arch, nr, args) and returns the SECCOMP_RET_* value.
    public func evaluate(arch: UInt32 = auditArchX86_64, number: Int32, args: [UInt64] = []) -> UInt32 {
        var six = args + [UInt64](repeating: 0, count: max(0, 6 - args.count))
        return instructions.withUnsafeBytes { program in
            six.withUnsafeMutableBufferPointer {
                moat_bpf_evaluate(program.baseAddress, instructions.count, arch, number, $0.baseAddress)
            }
        }
    }
}

/// SECCOMP_RET_* action values, for reading `evaluate` results.
public enum SeccompReturn {
    public static let killProcess: UInt32 = 0x8000_0000
    public static let killThread: UInt32 = 0
    public static let trap: UInt32 = 0x0003_0000
    public static let errno: UInt32 = 0x0005_0000
    public static let trace: UInt32 = 0x7FF0_0000
    public static let allow: UInt32 = 0x7FFF_0000
    public static let actionMask: UInt32 = 0xFFFF_0000
    public static let dataMask: UInt32 = 0x0000_FFFF
}

/// Syscall names and numbers as libseccomp knows them (the kernel's table).
public enum SyscallNames {
    public static func number(of name: String) -> Int32? {
        let nr = moat_syscall_number(name)
        return nr < 0 ? nil : nr
    }

    public static func name(of number: Int32) -> String? {
        guard let raw = moat_syscall_name(number) else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }
}
