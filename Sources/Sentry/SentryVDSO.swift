import Glibc
import Platform

/// The sentry's vDSO: the clock calls without a trap. It is a two-page image
/// mapped into every new program at exec and announced through
/// AT_SYSINFO_EHDR: page 0 is an ELF shared object (`VDSOImage`) exporting
/// what the kernel's exports on x86-64 (`__vdso_clock_gettime`,
/// `__vdso_gettimeofday`, `__vdso_time`, `__vdso_clock_getres`,
/// `__vdso_getcpu` and their weak aliases, version LINUX_2.6), page 1
/// read-only data. The code (CShims/vdso.S) calls the host vDSO's functions
/// (left mapped, unannounced) and subtracts the sandbox's base for the
/// clock, so a result is exactly what the sentry's trapped call would
/// answer. Clocks the host vDSO cannot serve without a syscall (the ALARM
/// ones) have base 0 in the data: their syscall reaches the sentry, which
/// answers with virtual time; and a syscall that the host vDSO itself makes
/// (a clocksource without vDSO support) is recognised by its address and
/// answered with host time.
public struct SentryVDSO: Sendable {
    /// Offsets of the host vDSO's functions from its start (0: not exported).
    let hostClockGettime: UInt64
    let hostClockGetres: UInt64
    let hostGetcpu: UInt64
    let image: [UInt8]

    static let pageSize = VDSOImage.pageSize
    /// Clocks whose host vDSO path never makes a syscall (with a vDSO-capable clocksource).
    static let servedClocks: Set<Int32> = [0, 1, 4, 5, 6, 7, 11]

    /// Available when this process's own vDSO exports clock_gettime and the
    /// host's clocksource lets the vDSO read time without a syscall.
    public static let available: SentryVDSO? = {
        guard let source = HostFile.read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
            ["tsc\n", "kvm-clock\n", "hyperv_clocksource_tsc_page\n", "arch_sys_counter\n"]
                .contains(String(decoding: source, as: UTF8.self)),
            let offset = hostSymbolOffset("__vdso_clock_gettime")
        else { return nil }
        return SentryVDSO(
            hostClockGettime: offset, hostClockGetres: hostSymbolOffset("__vdso_clock_getres") ?? 0,
            hostGetcpu: hostSymbolOffset("__vdso_getcpu") ?? 0, image: makeImage())
    }()

    /// Page 1 (the layout vdso.S reads): the host's clock_gettime in the
    /// tracee, the bases of clocks 0...11, the host's clock_getres and getcpu.
    func data(hostVDSOBase: UInt64, clocks: Clocks) -> [UInt8] {
        var words = [hostVDSOBase + hostClockGettime]
        for id in Int32(0)...11 {
            words.append(SentryVDSO.servedClocks.contains(id) ? UInt64(bitPattern: clocks.base(id)) : 0)
        }
        words.append(hostClockGetres == 0 ? 0 : hostVDSOBase + hostClockGetres)
        words.append(hostGetcpu == 0 ? 0 : hostVDSOBase + hostGetcpu)
        var out = ELFWriter(size: SentryVDSO.pageSize)
        for (index, word) in words.enumerated() { out.put64(word, at: index * 8) }
        return out.bytes
    }

    /// Page 0, with the code from CShims/vdso.S.
    static func makeImage() -> [UInt8] {
        let code = VDSOCode.bytes
        let exports = VDSOCode.functions
        let starts = exports.map(\.offset)
        let functions = exports.enumerated().map { index, export in
            // A function runs up to the next one's start (or the code's end).
            let end = starts.filter { $0 > starts[index] }.min() ?? code.count
            return VDSOImage.Function(name: export.name, offset: starts[index], size: end - starts[index])
        }
        return VDSOImage.build(code: code, functions: functions)
    }

    /// The offset of `name` in this process's own vDSO (the same image the kernel maps everywhere).
    static func hostSymbolOffset(_ name: String) -> UInt64? {
        let base = VDSOCode.hostBase
        guard base != 0, let ehdr = UnsafeRawPointer(bitPattern: base) else { return nil }
        let phoff = Int(ehdr.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        let phnum = Int(ehdr.loadUnaligned(fromByteOffset: 56, as: UInt16.self))
        var loadVaddr: UInt64?
        var dynamicVaddr: UInt64?
        for index in 0..<phnum {
            let ph = phoff + index * 56
            let type = ehdr.loadUnaligned(fromByteOffset: ph, as: UInt32.self)
            let vaddr = ehdr.loadUnaligned(fromByteOffset: ph + 16, as: UInt64.self)
            if type == 1 && loadVaddr == nil { loadVaddr = vaddr }
            if type == 2 { dynamicVaddr = vaddr }
        }
        guard let loadVaddr, let dynamicVaddr else { return nil }
        func at(_ vaddr: UInt64) -> Int { Int(vaddr - loadVaddr) }
        var symtab: UInt64?
        var strtab: UInt64?
        var hashTable: UInt64?
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
        let count = Int(ehdr.loadUnaligned(fromByteOffset: at(hashTable) + 4, as: UInt32.self))  // nchain
        for index in 1..<count {
            let sym = at(symtab) + index * 24
            let nameOffset = Int(ehdr.loadUnaligned(fromByteOffset: sym, as: UInt32.self))
            let symbol = String(cString: (ehdr + at(strtab) + nameOffset).assumingMemoryBound(to: CChar.self))
            if symbol == name { return ehdr.loadUnaligned(fromByteOffset: sym + 8, as: UInt64.self) - loadVaddr }
        }
        return nil
    }
}
