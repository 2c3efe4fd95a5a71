import CShims
import Glibc

/// What the filter does with one syscall number.
public enum FilterAction: Equatable, Sendable {
    /// Stop for the tracer; the data is the syscall number, so dispatch needs no register read.
    case trace
    /// Seccomp user notification: answered through the listener fd without a ptrace stop.
    case notify
    case allow
    case errno(Int32)
    /// Allow when `(arg & mask) == 0`, otherwise fail with the errno (clone's namespace flags).
    case allowUnlessBits(argument: Int32, mask: UInt64, errno: Int32)
    /// Allow when the argument is 0, else trap (`notify`: as a user notification) — sendto with no address.
    case allowIfZero(argument: Int32, notify: Bool)
    /// Allow unless `arg & mask` is one of `values`, which fail with the errno (ioctl's terminal injection requests).
    case allowExceptValues(argument: Int32, mask: UInt64, values: [UInt64], errno: Int32)
    /// Trace when `arg & mask` is one of `trace`, allow when one of `allow`,
    /// the default errno otherwise (futex: only the ops with absolute deadlines trap).
    /// With `unlessZero`, a `trace` value is allowed too while that argument is 0
    /// (futex: no timeout, no deadline to shift).
    case traceForValues(argument: Int32, mask: UInt64, trace: [UInt64], allow: [UInt64], unlessZero: Int32? = nil)
}

/// A classic-BPF seccomp program exported by libseccomp.
public struct SeccompProgram: Sendable {
    public let instructions: [UInt64]  // struct sock_filter is 8 bytes

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
            case .notify: rc = moat_seccomp_add_notify(ctx, rule.number)
            case .allow: rc = moat_seccomp_add_allow(ctx, rule.number)
            case .errno(let value) where value == defaultErrno:
                continue  // libseccomp refuses a rule that repeats the default action
            case .errno(let value): rc = moat_seccomp_add_errno(ctx, rule.number, UInt16(value))
            case .allowUnlessBits(let argument, let mask, let value):
                rc = moat_seccomp_add_masked(ctx, rule.number, argument, mask, UInt16(value))
            case .allowIfZero(let argument, let notify):
                rc = moat_seccomp_add_allow_if_zero(ctx, rule.number, argument, notify ? 1 : 0)
            case .allowExceptValues(let argument, let mask, let values, let value):
                rc = values.withUnsafeBufferPointer {
                    moat_seccomp_add_allow_except(ctx, rule.number, argument, mask, $0.baseAddress, Int32(values.count), UInt16(value))
                }
            case .traceForValues(let argument, let mask, let trace, let allow, let unlessZero):
                let traced = trace.withUnsafeBufferPointer {
                    moat_seccomp_add_masked_values(ctx, rule.number, argument, mask, 1, $0.baseAddress, Int32(trace.count), unlessZero ?? -1)
                }
                rc =
                    traced < 0
                    ? traced
                    : allow.withUnsafeBufferPointer {
                        moat_seccomp_add_masked_values(ctx, rule.number, argument, mask, 0, $0.baseAddress, Int32(allow.count), -1)
                    }
            }
            if rc < 0 { throw Errno(-rc) }
        }
        return try export(ctx)
    }

    /// The BPF libseccomp generated for `ctx`.
    private static func export(_ ctx: UnsafeMutableRawPointer) throws(Errno) -> SeccompProgram {
        var raw: UnsafeMutableRawPointer?
        let count = moat_seccomp_export(ctx, &raw)
        guard count > 0, let raw else { throw Errno(Int32(-count)) }
        defer { free(raw) }
        let words = raw.bindMemory(to: UInt64.self, capacity: count)
        return SeccompProgram(instructions: Array(UnsafeBufferPointer(start: words, count: count)))
    }

    /// One rule of a profile that is not Moat's own (a config's linux.seccomp).
    public struct ProfileRule: Sendable {
        public var number: Int32
        public var action: UInt32  // SECCOMP_RET_* with data
        public var conditions: [(index: UInt32, op: UInt32, value: UInt64, valueTwo: UInt64)]
        public init(number: Int32, action: UInt32, conditions: [(index: UInt32, op: UInt32, value: UInt64, valueTwo: UInt64)]) {
            self.number = number
            self.action = action
            self.conditions = conditions
        }
    }

    /// A program for a profile given by its default action and rules.
    public static func build(defaultAction: UInt32, profile: [ProfileRule]) throws(Errno) -> SeccompProgram {
        guard let ctx = moat_seccomp_new_with_action(defaultAction) else { throw Errno.invalid }
        defer { moat_seccomp_release(ctx) }
        for rule in profile where rule.action != defaultAction {
            let cmps = rule.conditions.map { moat_arg_cmp(index: $0.index, op: $0.op, a: $0.value, b: $0.valueTwo) }
            let rc = cmps.withUnsafeBufferPointer {
                moat_seccomp_add_rule(ctx, rule.action, rule.number, UInt32($0.count), $0.baseAddress)
            }
            if rc < 0 { throw Errno(-rc) }
        }
        return try export(ctx)
    }

    /// The program for `rules`, from a cache file in `directory` when one
    /// holds a program that provably implements them (libseccomp takes ~2.5 ms
    /// to build it; checking a cached one with the interpreter takes ~0.1 ms).
    public static func cached(
        defaultErrno: Int32, rules: [(number: Int32, action: FilterAction)],
        directory: String?
    ) throws(Errno) -> SeccompProgram {
        guard let directory else { return try build(defaultErrno: defaultErrno, rules: rules) }
        let path = directory + "/filter-" + String(fingerprint(rules), radix: 16) + ".bpf"
        if let program = load(path), program.implements(rules, defaultErrno: defaultErrno) { return program }
        let program = try build(defaultErrno: defaultErrno, rules: rules)
        program.store(path)
        return program
    }

    /// Whether the program gives every number exactly its rule's action (and
    /// the default errno to the rest), and kills foreign arches and x32.
    public func implements(_ rules: [(number: Int32, action: FilterAction)], defaultErrno: Int32) -> Bool {
        let highest = (rules.map(\.number).max() ?? 0) + 64
        var expected = [FilterAction](repeating: .errno(defaultErrno), count: Int(highest) + 1)
        for rule in rules where rule.number >= 0 { expected[Int(rule.number)] = rule.action }
        for nr in Int32(0)...highest {
            let action = expected[Int(nr)]
            switch action {
            case .trace:
                guard evaluate(number: nr) == SeccompReturn.trace | UInt32(nr) else { return false }
            case .notify:
                guard evaluate(number: nr) == SeccompReturn.userNotif else { return false }
            case .allow:
                guard evaluate(number: nr) == SeccompReturn.allow else { return false }
            case .errno(let value):
                guard evaluate(number: nr) == SeccompReturn.errno | UInt32(value) else { return false }
            case .allowUnlessBits(let argument, let mask, let value):
                var args = [UInt64](repeating: 0, count: 6)
                guard evaluate(number: nr, args: args) == SeccompReturn.allow else { return false }
                for bit in 0..<64 where mask & (1 << UInt64(bit)) != 0 {
                    args[Int(argument)] = 1 << UInt64(bit)
                    guard evaluate(number: nr, args: args) == SeccompReturn.errno | UInt32(value) else { return false }
                }
            case .allowIfZero(let argument, let notify):
                var args = [UInt64](repeating: 0, count: 6)
                guard evaluate(number: nr, args: args) == SeccompReturn.allow else { return false }
                let trapped = notify ? SeccompReturn.userNotif : SeccompReturn.trace | UInt32(nr)
                for other: UInt64 in [1, 0x7fff_0000_1000, 1 << 32, 1 << 63, ~0] {
                    args[Int(argument)] = other
                    guard evaluate(number: nr, args: args) == trapped else { return false }
                }
            case .allowExceptValues(let argument, let mask, let values, let value):
                var args = [UInt64](repeating: 0, count: 6)
                for refused in values {
                    // Bits outside the mask change nothing: the kernel never sees them.
                    for high in [UInt64(0), ~mask] {
                        args[Int(argument)] = refused | high
                        guard evaluate(number: nr, args: args) == SeccompReturn.errno | UInt32(value) else { return false }
                    }
                    // The lowest mask bit flipped: another value, allowed unless refused too.
                    let neighbour = refused ^ (mask & (~mask &+ 1))
                    args[Int(argument)] = neighbour
                    guard values.contains(neighbour & mask) || evaluate(number: nr, args: args) == SeccompReturn.allow else { return false }
                }
                // Everything else is allowed: zero, every single bit, and a fixed pseudo-random sample.
                var sample: UInt64 = 0x9e37_79b9_7f4a_7c15
                let others =
                    [0] + (0..<64).map { UInt64(1) << UInt64($0) }
                    + (0..<16).map { _ -> UInt64 in
                        sample = sample &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        return sample
                    }
                for other in others where !values.contains(other & mask) {
                    args[Int(argument)] = other
                    guard evaluate(number: nr, args: args) == SeccompReturn.allow else { return false }
                }
            case .traceForValues(let argument, let mask, let trace, let allow, let unlessZero):
                var args = [UInt64](repeating: 0, count: 6)
                if let unlessZero { args[Int(unlessZero)] = 0x7fff_0000_1000 }
                for value in trace {
                    args[Int(argument)] = value
                    guard evaluate(number: nr, args: args) == SeccompReturn.trace | UInt32(nr) else { return false }
                    if let unlessZero {
                        var zero = args
                        zero[Int(unlessZero)] = 0
                        guard evaluate(number: nr, args: zero) == SeccompReturn.allow else { return false }
                    }
                }
                for value in allow {
                    args[Int(argument)] = value
                    guard evaluate(number: nr, args: args) == SeccompReturn.allow else { return false }
                }
                if let other = (0...mask).first(where: { !trace.contains($0) && !allow.contains($0) }) {
                    args[Int(argument)] = other
                    guard evaluate(number: nr, args: args) == SeccompReturn.errno | UInt32(defaultErrno) else { return false }
                }
            }
        }
        return evaluate(arch: SeccompProgram.auditArchI386, number: 1) == SeccompReturn.killProcess
            && evaluate(number: 0x4000_0000) == SeccompReturn.killProcess
    }

    static func fingerprint(_ rules: [(number: Int32, action: FilterAction)]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash = (hash ^ ((value >> UInt64(shift)) & 0xff)) &* 0x100_0000_01b3
            }
        }
        for rule in rules {
            mix(UInt64(UInt32(bitPattern: rule.number)))
            switch rule.action {
            case .trace: mix(1)
            case .allow: mix(2)
            case .notify: mix(5)
            case .errno(let e):
                mix(3)
                mix(UInt64(e))
            case .allowUnlessBits(let a, let m, let e):
                mix(4)
                mix(UInt64(a))
                mix(m)
                mix(UInt64(e))
            case .allowIfZero(let a, let notify):
                mix(8)
                mix(UInt64(a))
                mix(notify ? 1 : 0)
            case .allowExceptValues(let a, let m, let values, let e):
                mix(7)
                mix(UInt64(a))
                mix(m)
                for value in values { mix(value) }
                mix(UInt64(e))
            case .traceForValues(let a, let m, let trace, let allow, let unlessZero):
                mix(6)
                mix(UInt64(a))
                mix(m)
                for value in trace { mix(value) }
                mix(0xff)
                for value in allow { mix(value) }
                if let unlessZero { mix(0x100 | UInt64(unlessZero)) }
            }
        }
        return hash
    }

    /// A cache file is trusted only if root-or-us owned and writable by nobody else.
    static func load(_ path: String) -> SeccompProgram? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == geteuid(), st.st_mode & 0o022 == 0,
            st.st_size > 0, st.st_size % 8 == 0, st.st_size < 65536
        else { return nil }
        var words = [UInt64](repeating: 0, count: Int(st.st_size) / 8)
        let got = words.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return got == Int(st.st_size) ? SeccompProgram(instructions: words) : nil
    }

    func store(_ path: String) {
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let wrote = instructions.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if wrote == instructions.count * 8 { rename(temporary, path) } else { unlink(temporary) }
    }

    /// Runs the program on (arch, nr, args) and returns the SECCOMP_RET_* value.
    public func evaluate(arch: UInt32 = auditArchX86_64, number: Int32, args: [UInt64] = []) -> UInt32 {
        var six: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &six) { raw in
            for (i, value) in args.prefix(6).enumerated() { raw.storeBytes(of: value, toByteOffset: i * 8, as: UInt64.self) }
        }
        return instructions.withUnsafeBytes { program in
            withUnsafeBytes(of: &six) {
                moat_bpf_evaluate(
                    program.baseAddress, instructions.count, arch, number,
                    $0.baseAddress!.assumingMemoryBound(to: UInt64.self))
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
    public static let userNotif: UInt32 = 0x7FC0_0000
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
