import Glibc
import Platform

/// Takes the vDSO away from a freshly exec'd image, so that libc's clock
/// reads become syscalls the sentry serves. At the exec stop the new stack
/// holds argc, argv[], NULL, envp[], NULL, then the auxiliary vector; the
/// AT_SYSINFO_EHDR entry is turned into AT_IGNORE. Then the vDSO and its
/// data pages ([vvar], [vvar_vclock]) are unmapped, so that no code can read
/// the host's clocks from them either.
enum VDSO {
    static let atNull: UInt64 = 0
    static let atIgnore: UInt64 = 1
    static let atSysinfoEhdr: UInt64 = 33
    static let mappings: Set<Substring> = ["[vdso]", "[vvar]", "[vvar_vclock]"]

    /// Returns a signal that arrived while the tracee ran an injected call (0: none).
    static func remove(in tid: HostTid, tracer: PtraceTracer) -> Int32 {
        hide(in: tid, tracer: tracer)
        let mapped = ranges(in: tid)
        guard !mapped.isEmpty, var deferred = try? tracer.stepOutOfSyscall(tid) else { return 0 }
        for (start, end) in mapped {
            guard let done = try? tracer.inject(tid, syscall: 11 /* munmap */, [Int(start), Int(end - start)]) else { continue }
            if done.deferredSignal != 0 { deferred = done.deferredSignal }
        }
        return deferred
    }

    /// The vDSO's and its data pages' address ranges, from /proc/<tid>/maps.
    static func ranges(in tid: HostTid) -> [(UInt64, UInt64)] {
        guard let bytes = HostProcfs.read("\(tid)/maps") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let name = line.split(separator: " ").last, mappings.contains(name) else { return nil }
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16) else { return nil }
            return (start, end)
        }
    }

    static func hide(in tid: HostTid, tracer: PtraceTracer) {
        guard let sp = try? tracer.stackPointer(tid) else { return }
        var stack = StackWords(memory: TraceeMemory(tid), base: sp)
        guard let argc = stack[0] else { return }
        var index = Int(argc) + 2                 // past argc, argv[] and its NULL
        while let word = stack[index], word != 0 { index += 1 }
        index += 1                                 // past envp's NULL
        while let type = stack[index], type != atNull {
            if type == atSysinfoEhdr {
                try? TraceeMemory(tid).store(atIgnore, at: sp + UInt64(index * 8))
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
