import Glibc
import Platform

/// What a run records about the workload's syscalls, beyond serving them.
/// Observing never loosens the policy: a call that would be refused is still
/// refused, by the sentry instead of the filter, so that it can be recorded.
public struct Observation: Sendable {
    /// Denied and unknown calls trap and are recorded, once each with their arguments.
    public var refused = false
    /// Every call traps and is counted (--count-all).
    public var all = false
    /// Print calls as strace does to this fd.
    public var straceFD: Int32?
    /// With `straceFD`: only these numbers (nil: every call).
    public var straceOnly: Set<Int32>?

    public init() {}

    public var isActive: Bool { refused || all || straceFD != nil }

    func straces(_ nr: Int32) -> Bool {
        straceFD != nil && (straceOnly?.contains(nr) ?? true)
    }
}

/// A refused call, as the per-run report lists it.
public struct RefusedCall: Sendable {
    public let number: Int32
    public let errno: Errno
    /// The arguments of its first occurrence.
    public let arguments: [UInt64]
    public internal(set) var count: Int
}

/// The records of one observed run: counts, refused calls, and the calls
/// whose exit the tracer waits for to print them.
final class Observer {
    let observation: Observation
    /// Refused calls by number, or by number and command for the multiplexers.
    private(set) var refused: [UInt64: RefusedCall] = [:]
    private(set) var refusedOrder: [UInt64] = []
    /// Straced calls running on the host, by thread: printed at their exit.
    private var pending: [HostTid: (vtid: Int32, nr: Int32, args: SyscallArgs, inputs: [String?])] = [:]
    private let start = Clocks.host(CLOCK_MONOTONIC)

    init(_ observation: Observation) { self.observation = observation }

    /// ioctl, fcntl, prctl and setsockopt are listed once per command, other calls once.
    static func key(_ nr: Int32, _ args: SyscallArgs) -> UInt64 {
        let command: UInt64 =
            switch SyscallTable.name(of: nr) {
            case "ioctl", "fcntl": args[1] & 0xffff_ffff
            case "prctl": args[0] & 0xffff_ffff
            case "setsockopt", "getsockopt": (args[1] << 16 | args[2]) & 0xffff_ffff
            default: 0
            }
        return UInt64(UInt32(bitPattern: nr)) << 32 | command
    }

    func recordRefused(_ nr: Int32, _ args: SyscallArgs, errno: Errno) {
        let key = Observer.key(nr, args)
        if refused[key] == nil {
            refused[key] = RefusedCall(number: nr, errno: errno, arguments: (0..<6).map { args[$0] }, count: 0)
            refusedOrder.append(key)
        }
        refused[key]!.count += 1
    }

    var refusedCalls: [RefusedCall] { refusedOrder.compactMap { refused[$0] } }

    /// A straced call that the sentry finished itself.
    func printFinished(
        _ tid: HostTid, vtid: Int32, _ args: SyscallArgs, result: Int, note: String = "",
        inputs known: [String?]? = nil
    ) {
        guard observation.straces(args.number), let fd = observation.straceFD else { return }
        let memory = TraceeMemory(tid)
        let inputs = known ?? Strace.inputs(args, memory)
        line(fd, vtid, Strace.call(args, inputs: inputs, result: Int64(result), memory: memory) + note)
    }

    /// A straced call about to run on the host: its inputs are read now,
    /// before the host runs it (an exec replaces the memory they live in).
    /// A straced call's inputs, read before the caller runs on (it may exit
    /// before a serving thread prints it); nil when it is not straced.
    func inputs(_ tid: HostTid, _ args: SyscallArgs) -> [String?]? {
        guard observation.straces(args.number), observation.straceFD != nil else { return nil }
        return Strace.inputs(args, TraceeMemory(tid))
    }

    func begin(_ tid: HostTid, vtid: Int32, _ args: SyscallArgs) {
        pending[tid] = (vtid, args.number, args, Strace.inputs(args, TraceeMemory(tid)))
    }

    func finish(_ tid: HostTid, result: Int64) -> Bool {
        guard let call = pending.removeValue(forKey: tid), let fd = observation.straceFD else { return false }
        line(fd, call.vtid, Strace.call(call.args, inputs: call.inputs, result: result, memory: TraceeMemory(tid)))
        return true
    }

    /// A straced call that never returned: exec replaced the image (0), or the thread died.
    func abandon(_ tid: HostTid, result: Int64?) {
        guard let call = pending.removeValue(forKey: tid), let fd = observation.straceFD else { return }
        let text = Strace.call(call.args, inputs: call.inputs, result: result ?? 0, memory: nil)
        line(fd, call.vtid, result == nil ? String(text[..<(text.lastIndex(of: "=") ?? text.endIndex)]) + "= ?" : text)
    }

    private func line(_ fd: Int32, _ vtid: Int32, _ text: String) {
        let elapsed = Double(Clocks.host(CLOCK_MONOTONIC) - start) / 1e9
        var seconds = String(Int(elapsed))
        var micros = String(Int((elapsed - Double(Int(elapsed))) * 1e6))
        micros = String(repeating: "0", count: max(0, 6 - micros.count)) + micros
        seconds = String(repeating: " ", count: max(0, 4 - seconds.count)) + seconds
        let out = "\(seconds).\(micros) [\(vtid)] \(text)\n"
        _ = out.withCString { Glibc.write(fd, $0, strlen($0)) }
    }
}
