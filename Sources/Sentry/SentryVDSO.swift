import CShims
import Glibc
import Platform

/// The sentry's vDSO: clock_gettime without a trap. It is a two-page image
/// mapped into every new program at exec and announced through
/// AT_SYSINFO_EHDR: page 0 is a minimal ELF shared object exporting
/// `__vdso_clock_gettime` (and `clock_gettime`), page 1 read-only data. The
/// code calls the host vDSO's clock_gettime (left mapped, unannounced) and
/// subtracts the sandbox's base for the clock, so the result is exactly what
/// the sentry's trapped clock_gettime would answer. Clocks the host vDSO
/// cannot serve without a syscall (the ALARM ones) have base 0 in the data:
/// their syscall reaches the sentry, which answers with virtual time; and a
/// syscall that the host vDSO itself makes (a clocksource without vDSO
/// support) is recognised by its address and answered with host time.
public struct SentryVDSO: Sendable {
    /// Offset of `__vdso_clock_gettime` from the start of the host vDSO.
    let hostClockGettime: UInt64
    let image: [UInt8]

    static let pageSize = 4096
    static let codeOffset = 0x400
    /// Clocks whose host vDSO path never makes a syscall (with a vDSO-capable clocksource).
    static let servedClocks: Set<Int32> = [0, 1, 4, 5, 6, 7, 11]

    /// The clock_gettime wrapper, assembled from this (GNU as, x86-64), placed
    /// at image offset 0x400 with its data page at 0x1000:
    ///
    ///     vclock_gettime:
    ///         mov  data(%rip), %rax          # the host vDSO's clock_gettime
    ///         cmp  $11, %edi
    ///         ja   1f                         # CPU-time and unknown clocks: the host's
    ///         lea  data+8(%rip), %rcx
    ///         movslq %edi, %rdx
    ///         mov  (%rcx,%rdx,8), %rdx        # base of this clock
    ///         test %rdx, %rdx
    ///         jz   1f
    ///         push %rsi; push %rdx; sub $8, %rsp
    ///         call *%rax
    ///         add  $8, %rsp; pop %rdx; pop %rsi
    ///         test %eax, %eax
    ///         jnz  2f
    ///         mov  (%rsi), %rcx; imul $1000000000, %rcx, %rcx; add 8(%rsi), %rcx
    ///         sub  %rdx, %rcx                 # virtual = host - base
    ///         mov  %rcx, %rax; mov $1000000000, %r8; cqo; idiv %r8
    ///         test %rdx, %rdx; jns 3f; add %r8, %rdx; dec %rax
    ///     3:  mov  %rax, (%rsi); mov %rdx, 8(%rsi); xor %eax, %eax
    ///     2:  ret
    ///     1:  jmp  *%rax
    ///         .org 0xc00
    ///     data:
    static let code: [UInt8] = [
        0x48, 0x8b, 0x05, 0xf9, 0x0b, 0x00, 0x00, 0x83, 0xff, 0x0b, 0x77, 0x5a, 0x48, 0x8d, 0x0d, 0xf5,
        0x0b, 0x00, 0x00, 0x48, 0x63, 0xd7, 0x48, 0x8b, 0x14, 0xd1, 0x48, 0x85, 0xd2, 0x74, 0x47, 0x56,
        0x52, 0x48, 0x83, 0xec, 0x08, 0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0x5a, 0x5e, 0x85, 0xc0, 0x75,
        0x34, 0x48, 0x8b, 0x0e, 0x48, 0x69, 0xc9, 0x00, 0xca, 0x9a, 0x3b, 0x48, 0x03, 0x4e, 0x08, 0x48,
        0x29, 0xd1, 0x48, 0x89, 0xc8, 0x49, 0xc7, 0xc0, 0x00, 0xca, 0x9a, 0x3b, 0x48, 0x99, 0x49, 0xf7,
        0xf8, 0x48, 0x85, 0xd2, 0x79, 0x06, 0x4c, 0x01, 0xc2, 0x48, 0xff, 0xc8, 0x48, 0x89, 0x06, 0x48,
        0x89, 0x56, 0x08, 0x31, 0xc0, 0xc3, 0xff, 0xe0,
    ]

    /// Available when this process's own vDSO exports clock_gettime and the
    /// host's clocksource lets the vDSO read time without a syscall.
    public static let available: SentryVDSO? = {
        guard let source = HostFile.read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
              ["tsc\n", "kvm-clock\n", "hyperv_clocksource_tsc_page\n", "arch_sys_counter\n"]
                .contains(String(decoding: source, as: UTF8.self)),
              let offset = hostSymbolOffset("__vdso_clock_gettime") else { return nil }
        return SentryVDSO(hostClockGettime: offset, image: makeImage())
    }()

    /// Page 1: the host function's address in the tracee, then the bases of clocks 0...11.
    func data(hostVDSOBase: UInt64, clocks: Clocks) -> [UInt8] {
        var words = [hostVDSOBase + hostClockGettime]
        for id in Int32(0)...11 {
            words.append(SentryVDSO.servedClocks.contains(id) ? UInt64(bitPattern: clocks.base(id)) : 0)
        }
        var bytes = [UInt8](repeating: 0, count: SentryVDSO.pageSize)
        for (index, word) in words.enumerated() { SentryVDSO.put(word, at: index * 8, in: &bytes) }
        return bytes
    }

    /// Page 0: ELF header, PT_LOAD and PT_DYNAMIC headers, the dynamic
    /// section, a SysV hash table, two symbols and their names, the code.
    static func makeImage() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: pageSize)
        let dynamic = 0x100, hash = 0x200, symtab = 0x240, strtab = 0x300
        let names = "\0__vdso_clock_gettime\0clock_gettime\0"
        // Elf64_Ehdr
        b.replaceSubrange(0..<8, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
        put16(3, at: 16, in: &b)            // ET_DYN
        put16(62, at: 18, in: &b)           // EM_X86_64
        put32(1, at: 20, in: &b)            // EV_CURRENT
        put(64, at: 32, in: &b)             // e_phoff
        put16(64, at: 52, in: &b)           // e_ehsize
        put16(56, at: 54, in: &b)           // e_phentsize
        put16(2, at: 56, in: &b)            // e_phnum
        put16(64, at: 58, in: &b)           // e_shentsize
        // PT_LOAD: both pages, readable and executable.
        put32(1, at: 64, in: &b); put32(5, at: 68, in: &b)
        put(0, at: 72, in: &b); put(0, at: 80, in: &b); put(0, at: 88, in: &b)
        put(UInt64(2 * pageSize), at: 96, in: &b); put(UInt64(2 * pageSize), at: 104, in: &b); put(UInt64(pageSize), at: 112, in: &b)
        // PT_DYNAMIC
        let dynamicEntries: [(UInt64, UInt64)] = [(4, UInt64(hash)), (5, UInt64(strtab)), (6, UInt64(symtab)),
                                                 (10, UInt64(names.utf8.count)), (11, 24), (0, 0)]
        put32(2, at: 120, in: &b); put32(4, at: 124, in: &b)
        put(UInt64(dynamic), at: 128, in: &b); put(UInt64(dynamic), at: 136, in: &b); put(UInt64(dynamic), at: 144, in: &b)
        put(UInt64(dynamicEntries.count * 16), at: 152, in: &b); put(UInt64(dynamicEntries.count * 16), at: 160, in: &b)
        put(8, at: 168, in: &b)
        for (index, entry) in dynamicEntries.enumerated() {
            put(entry.0, at: dynamic + index * 16, in: &b)
            put(entry.1, at: dynamic + index * 16 + 8, in: &b)
        }
        // SysV hash: one bucket holding symbol 1, chained to symbol 2.
        for (index, word) in [UInt32(1), 3, 1, 0, 2, 0].enumerated() { put32(word, at: hash + index * 4, in: &b) }
        // Symbols 1 and 2: global functions at the code.
        for (index, nameOffset) in [1, 22].enumerated() {
            let at = symtab + (index + 1) * 24
            put32(UInt32(nameOffset), at: at, in: &b)
            b[at + 4] = 0x12                  // STB_GLOBAL, STT_FUNC
            put16(1, at: at + 6, in: &b)      // defined (any section but SHN_UNDEF)
            put(UInt64(codeOffset), at: at + 8, in: &b)
            put(UInt64(code.count), at: at + 16, in: &b)
        }
        b.replaceSubrange(strtab..<(strtab + names.utf8.count), with: Array(names.utf8))
        b.replaceSubrange(codeOffset..<(codeOffset + code.count), with: code)
        return b
    }

    /// The offset of `name` in this process's own vDSO (the same image the kernel maps everywhere).
    static func hostSymbolOffset(_ name: String) -> UInt64? {
        let base = UInt(moat_own_vdso())
        guard base != 0, let ehdr = UnsafeRawPointer(bitPattern: base) else { return nil }
        let phoff = Int(ehdr.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        let phnum = Int(ehdr.loadUnaligned(fromByteOffset: 56, as: UInt16.self))
        var loadVaddr: UInt64?, dynamicVaddr: UInt64?
        for index in 0..<phnum {
            let ph = phoff + index * 56
            let type = ehdr.loadUnaligned(fromByteOffset: ph, as: UInt32.self)
            let vaddr = ehdr.loadUnaligned(fromByteOffset: ph + 16, as: UInt64.self)
            if type == 1 && loadVaddr == nil { loadVaddr = vaddr }
            if type == 2 { dynamicVaddr = vaddr }
        }
        guard let loadVaddr, let dynamicVaddr else { return nil }
        func at(_ vaddr: UInt64) -> Int { Int(vaddr - loadVaddr) }
        var symtab: UInt64?, strtab: UInt64?, hashTable: UInt64?
        var entry = at(dynamicVaddr)
        while true {
            let tag = ehdr.loadUnaligned(fromByteOffset: entry, as: UInt64.self)
            let value = ehdr.loadUnaligned(fromByteOffset: entry + 8, as: UInt64.self)
            if tag == 0 { break }
            if tag == 4 { hashTable = value }
            if tag == 5 { strtab = value }
            if tag == 6 { symtab = value }
            entry += 16
        }
        guard let symtab, let strtab, let hashTable else { return nil }
        let count = Int(ehdr.loadUnaligned(fromByteOffset: at(hashTable) + 4, as: UInt32.self))   // nchain
        for index in 1..<count {
            let sym = at(symtab) + index * 24
            let nameOffset = Int(ehdr.loadUnaligned(fromByteOffset: sym, as: UInt32.self))
            let symbol = String(cString: (ehdr + at(strtab) + nameOffset).assumingMemoryBound(to: CChar.self))
            if symbol == name { return ehdr.loadUnaligned(fromByteOffset: sym + 8, as: UInt64.self) - loadVaddr }
        }
        return nil
    }

    static func put(_ value: UInt64, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    static func put32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
    static func put16(_ value: UInt16, at offset: Int, in bytes: inout [UInt8]) {
        bytes[offset] = UInt8(truncatingIfNeeded: value)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }
}
