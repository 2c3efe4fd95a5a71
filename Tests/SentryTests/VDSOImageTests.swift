import Testing

@testable import Sentry

/// The sentry vDSO's tables, read back the way glibc's dynamic linker reads
/// them (GNU hash with its Bloom filter, then the version index); readelf
/// and real programs check the rest in the integration tests.
@Suite struct VDSOImageTests {
    let image = SentryVDSO.makeImage()

    func u16(_ at: Int) -> Int { Int(image[at]) | Int(image[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(image[at + $1]) << (8 * $1) } }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(image[at + $1]) << (8 * $1) } }

    /// d_val of a dynamic tag.
    func dynamic(_ tag: UInt64) -> Int? {
        let phoff = Int(u64(32))
        for index in 0..<u16(56) where u32(phoff + index * 56) == 2 {
            var entry = Int(u64(phoff + index * 56 + 8))
            while u64(entry) != 0 {
                if u64(entry) == tag { return Int(u64(entry + 8)) }
                entry += 16
            }
        }
        return nil
    }

    func name(_ offset: Int) -> String {
        let start = dynamic(5)! + offset
        return String(decoding: image[start...].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// glibc's do_lookup_x over DT_GNU_HASH: the symbol's value and version index, or nil.
    func lookup(_ symbol: String) -> (value: UInt64, version: Int)? {
        let table = dynamic(0x6fff_fef5)!
        let symtab = dynamic(6)!
        let versym = dynamic(0x6fff_fff0)!
        let buckets = Int(u32(table))
        let offset = Int(u32(table + 4))
        let bloomWords = Int(u32(table + 8))
        let shift = u32(table + 12)
        let hash = VDSOImage.gnuHash(symbol)
        let word = u64(table + 16 + 8 * Int((hash / 64) % UInt32(bloomWords)))
        guard word >> (hash % 64) & 1 != 0, word >> ((hash >> shift) % 64) & 1 != 0 else { return nil }
        let chains = table + 16 + 8 * bloomWords + 4 * buckets
        var index = Int(u32(table + 16 + 8 * bloomWords + 4 * Int(hash % UInt32(buckets))))
        guard index != 0 else { return nil }
        while true {
            let chained = u32(chains + 4 * (index - offset))
            if chained | 1 == hash | 1, name(Int(u32(symtab + 24 * index))) == symbol {
                return (u64(symtab + 24 * index + 8), u16(versym + 2 * index))
            }
            if chained & 1 != 0 { return nil }
            index += 1
        }
    }

    @Test func hashesAreTheOnesGoPrecomputes() {
        // runtime/vdso_linux_amd64.go: {"__vdso_clock_gettime", 0xd35ec75, 0x6e43a318}, LINUX_2.6 0x3ae75f6.
        #expect(VDSOImage.elfHash("__vdso_clock_gettime") == 0xd35ec75)
        #expect(VDSOImage.gnuHash("__vdso_clock_gettime") == 0x6e43_a318)
        #expect(VDSOImage.elfHash("__vdso_gettimeofday") == 0x315ca59)
        #expect(VDSOImage.gnuHash("__vdso_gettimeofday") == 0xb01b_ca00)
        #expect(VDSOImage.elfHash("LINUX_2.6") == 0x3ae75f6)
    }

    @Test func everyExportIsFoundAtItsCodeWithVersionTwo() {
        #expect(Array(image[0..<4]) == [0x7f, 0x45, 0x4c, 0x46])
        #expect(image.count == SentryVDSO.pageSize)
        var seen: Set<UInt64> = []
        for function in ["clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"] {
            let global = lookup("__vdso_" + function)
            let weak = lookup(function)
            #expect(global != nil && global?.value == weak?.value, "\(function)")
            #expect(global?.version == 2 && weak?.version == 2)
            if let value = global?.value {
                #expect(value >= UInt64(VDSOImage.codeOffset) && value < UInt64(SentryVDSO.pageSize))
                seen.insert(value)
            }
        }
        #expect(seen.count == 5, "five distinct functions")
        #expect(lookup("__vdso_getrandom") == nil && lookup("clock_settime") == nil)
        // Version 2 is LINUX_2.6 in the version definitions; 1 is the base, the soname.
        let verdef = dynamic(0x6fff_fffc)!
        #expect(u16(verdef + 2) == 1 && u16(verdef + 4) == 1 && name(Int(u32(verdef + 20))) == "linux-vdso.so.1")
        let second = verdef + Int(u32(verdef + 16))
        #expect(u16(second + 4) == 2 && name(Int(u32(second + 20))) == "LINUX_2.6")
        #expect(u32(second + 8) == VDSOImage.elfHash("LINUX_2.6") && u32(second + 16) == 0)
        #expect(name(dynamic(14)!) == "linux-vdso.so.1")
    }
}
