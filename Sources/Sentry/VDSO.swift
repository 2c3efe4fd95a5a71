import Glibc
import Platform

/// What a freshly exec'd image gets instead of the host's vDSO. At the exec
/// stop the new stack holds argc, argv[], NULL, envp[], NULL, then the
/// auxiliary vector, whose AT_SYSINFO_EHDR entry tells libc where the vDSO is.
/// With the sentry vDSO it is mapped (through an injected mmap) and
/// announced there; the host's stays mapped for it to call.
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
        // No AT_SYSINFO_EHDR: the kernel mapped no vDSO, there is nothing to do.
        guard let entry = sysinfoEntry(in: tid, tracer: tracer) else { return 0 }
        let memory = TraceeMemory(tid)
        guard var deferred = try? tracer.stepOutOfSyscall(tid) else {
            try? memory.store(atIgnore, at: entry.type)
            return 0
        }
        // The host's vDSO is the same image in every process: its size is ours.
        if let sentry, let size = VDSO.ownSize,
            let address = map(sentry, in: tid, tracer: tracer, hostBase: entry.value, clocks: clocks, deferred: &deferred),
            (try? memory.store(address, at: entry.type + 8)) != nil
        {
            group?.hostVDSO = entry.value...(entry.value + size - 1)
            return deferred
        }
        try? memory.store(atIgnore, at: entry.type)
        for range in ranges(in: tid) {
            guard let done = try? tracer.inject(tid, syscall: 11 /* munmap */, [Int(range.start), Int(range.end - range.start)])
            else { continue }
            if done.deferredSignal != 0 { deferred = done.deferredSignal }
        }
        return deferred
    }

    /// Maps the sentry vDSO's two pages into the tracee; their address, or nil.
    /// One injected call: the pages are mapped read-and-execute and written
    /// through /proc/<tid>/mem. (Where the kernel refuses that, they are
    /// mapped writable, written, and made read-and-execute: two calls more.)
    /// The data page is executable too: the workload can read it anyway, and
    /// each injected call is a stop, several per exec.
    private static func map(
        _ sentry: SentryVDSO, in tid: HostTid, tracer: PtraceTracer, hostBase: UInt64,
        clocks: Clocks, deferred: inout Int32
    ) -> UInt64? {
        let size = 2 * SentryVDSO.pageSize
        // mmap(NULL, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
        guard let made = try? tracer.inject(tid, syscall: 9, [0, size, 5, 0x22, -1, 0]),
            made.result > 0 || made.result < -4095
        else { return nil }
        if made.deferredSignal != 0 { deferred = made.deferredSignal }
        let address = UInt64(bitPattern: Int64(made.result))
        let pages = sentry.image + sentry.data(hostVDSOBase: hostBase, clocks: clocks)
        let memory = TraceeMemory(tid)
        if (try? memory.writeForced(pages, at: address)) != nil { return address }
        for protection in [3, 5] {
            if protection == 5 && (try? memory.write(pages, at: address)) == nil { return nil }
            guard let done = try? tracer.inject(tid, syscall: 10 /* mprotect */, [Int(address), size, protection]), done.result == 0
            else { return nil }
            if done.deferredSignal != 0 { deferred = done.deferredSignal }
        }
        return address
    }

    /// The size of this process's own vDSO (the host's image), from /proc/self/maps, once.
    static let ownSize: UInt64? = ranges(in: getpid()).first { $0.name == "[vdso]" }.map { $0.end - $0.start }

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

    /// Where the new stack's auxv holds AT_SYSINFO_EHDR (the entry's type
    /// word; its value, the host vDSO's base, follows), or nil without one.
    static func sysinfoEntry(in tid: HostTid, tracer: PtraceTracer) -> (type: UInt64, value: UInt64)? {
        guard let sp = try? tracer.stackPointer(tid) else { return nil }
        var stack = StackWords(memory: TraceeMemory(tid), base: sp)
        guard let argc = stack[0] else { return nil }
        var index = Int(argc) + 2  // past argc, argv[] and its NULL
        while let word = stack[index], word != 0 { index += 1 }
        index += 1  // past envp's NULL
        while let type = stack[index], type != atNull {
            if type == atSysinfoEhdr, let value = stack[index + 1] { return (sp + UInt64(index * 8), value) }
            index += 2
        }
        return nil
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
