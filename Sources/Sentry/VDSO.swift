import Platform

/// Takes the vDSO away from a freshly exec'd image, so that libc's clock
/// reads become syscalls the sentry serves. At the exec stop the new stack
/// holds argc, argv[], NULL, envp[], NULL, then the auxiliary vector; the
/// AT_SYSINFO_EHDR entry is turned into AT_IGNORE.
enum VDSO {
    static let atNull: UInt64 = 0
    static let atIgnore: UInt64 = 1
    static let atSysinfoEhdr: UInt64 = 33

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
