import Glibc
import Platform

/// What a freshly exec'd image gets instead of the host's vDSO. At the exec
/// stop the new stack holds argc, argv[], NULL, envp[], NULL, then the
/// auxiliary vector, whose AT_SYSINFO_EHDR entry tells libc where the vDSO is.
/// With the sentry vDSO it is mapped (through injected mmap and mprotect
/// calls) and announced there; the host's stays mapped for it to call.
/// Without it (a fixed start time, a clocksource the vDSO cannot read), the
/// entry becomes AT_IGNORE and the vDSO and its data pages ([vvar],
/// [vvar_vclock]) are unmapped, so that nothing can read the host's clocks.
enum VDSO {
    static let atNull: UInt64 = 0
    static let atIgnore: UInt64 = 1
    static let atSysinfoEhdr: UInt64 = 33
    static let mappings: Set<Substring> = ["[vdso]", "[vvar]", "[vvar_vclock]"]

    /// Returns a signal that arrived while the tracee ran an injected call (0: none).
    static func prepare(
        in tid: HostTid, tracer: PtraceTracer, sentry: SentryVDSO?, clocks: Clocks,
        group: ThreadGroup?
    ) -> Int32 {
        // The old image's host vDSO is gone: only a new one may be trusted as the caller of a fallback.
        group?.hostVDSO = nil
        let mapped = ranges(in: tid)
        guard !mapped.isEmpty, var deferred = try? tracer.stepOutOfSyscall(tid) else {
            setSysinfo(in: tid, tracer: tracer, to: nil)
            return 0
        }
        if let sentry, let host = mapped.first(where: { $0.name == "[vdso]" }),
            let address = map(sentry, in: tid, tracer: tracer, hostBase: host.start, clocks: clocks, deferred: &deferred)
        {
            setSysinfo(in: tid, tracer: tracer, to: address)
            group?.hostVDSO = host.start...(host.end - 1)
            return deferred
        }
        setSysinfo(in: tid, tracer: tracer, to: nil)
        for range in mapped {
            guard let done = try? tracer.inject(tid, syscall: 11 /* munmap */, [Int(range.start), Int(range.end - range.start)])
            else { continue }
            if done.deferredSignal != 0 { deferred = done.deferredSignal }
        }
        return deferred
    }

    /// Maps the sentry vDSO's two pages into the tracee; their address, or nil.
    private static func map(
        _ sentry: SentryVDSO, in tid: HostTid, tracer: PtraceTracer, hostBase: UInt64,
        clocks: Clocks, deferred: inout Int32
    ) -> UInt64? {
        let size = 2 * SentryVDSO.pageSize
        // mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
        guard let made = try? tracer.inject(tid, syscall: 9, [0, size, 3, 0x22, -1, 0]),
            made.result > 0 || made.result < -4095
        else { return nil }
        if made.deferredSignal != 0 { deferred = made.deferredSignal }
        let address = UInt64(bitPattern: Int64(made.result))
        let memory = TraceeMemory(tid)
        do {
            try memory.write(sentry.image, at: address)
            try memory.write(sentry.data(hostVDSOBase: hostBase, clocks: clocks), at: address + UInt64(SentryVDSO.pageSize))
        } catch { return nil }
        // The code read-and-execute, the data read-only.
        for (start, protection) in [(address, 5), (address + UInt64(SentryVDSO.pageSize), 1)] {
            guard let done = try? tracer.inject(tid, syscall: 10, [Int(start), SentryVDSO.pageSize, protection]),
                done.result == 0
            else { return nil }
            if done.deferredSignal != 0 { deferred = done.deferredSignal }
        }
        return address
    }

    /// The vDSO's and its data pages' address ranges, from /proc/<tid>/maps.
    static func ranges(in tid: HostTid) -> [(name: Substring, start: UInt64, end: UInt64)] {
        guard let bytes = HostProcfs.read("\(tid)/maps") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let name = line.split(separator: " ").last, mappings.contains(name) else { return nil }
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16) else { return nil }
            return (name, start, end)
        }
    }

    /// Sets the auxv's AT_SYSINFO_EHDR to `address`, or to AT_IGNORE.
    static func setSysinfo(in tid: HostTid, tracer: PtraceTracer, to address: UInt64?) {
        guard let sp = try? tracer.stackPointer(tid) else { return }
        var stack = StackWords(memory: TraceeMemory(tid), base: sp)
        guard let argc = stack[0] else { return }
        var index = Int(argc) + 2  // past argc, argv[] and its NULL
        while let word = stack[index], word != 0 { index += 1 }
        index += 1  // past envp's NULL
        while let type = stack[index], type != atNull {
            if type == atSysinfoEhdr {
                if let address {
                    try? TraceeMemory(tid).store(address, at: sp + UInt64((index + 1) * 8))
                } else {
                    try? TraceeMemory(tid).store(atIgnore, at: sp + UInt64(index * 8))
                }
                return
            }
            index += 2
        }
    }
}

/// The words above a stack pointer, read a page at a time as the walk needs them.
struct StackWords {
    let memory: TraceeMemory
    let base: UInt64
    private var words: [UInt64] = []
    private var exhausted = false

    init(memory: TraceeMemory, base: UInt64) {
        self.memory = memory
        self.base = base
    }

    subscript(index: Int) -> UInt64? {
        mutating get {
            while index >= words.count && !exhausted { loadMore() }
            return index < words.count ? words[index] : nil
        }
    }

    private mutating func loadMore() {
        let address = base + UInt64(words.count * 8)
        let toPageEnd = 4096 - Int(address & 4095)
        guard let bytes = try? memory.read(address, count: toPageEnd), bytes.count >= 8 else {
            exhausted = true
            return
        }
        bytes.withUnsafeBytes { raw in
            for offset in stride(from: 0, to: bytes.count - 7, by: 8) {
                words.append(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
        }
    }
}
