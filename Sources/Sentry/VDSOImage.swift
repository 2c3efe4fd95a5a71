/// Page 0 of the sentry vDSO: an ELF shared object laid out as the kernel
/// lays out its own (`readelf -a` on both shows the same kinds of table), so
/// that every runtime that parses a vDSO finds what it looks for. glibc and
/// musl look symbols up through DT_GNU_HASH or DT_HASH and check the version;
/// Go walks the program headers, the dynamic section, DT_VERDEF for
/// `LINUX_2.6`, then DT_GNU_HASH (or DT_HASH) and DT_VERSYM by itself, and
/// faults at start-up when one of them is missing.
///
/// Layout (virtual address = file offset, loaded at 0 like the kernel's):
/// the ELF header, two program headers (PT_LOAD over both pages and
/// PT_DYNAMIC), .hash, .gnu.hash, .dynsym, .dynstr, .gnu.version,
/// .gnu.version_d, .dynamic, .shstrtab and the section headers, then
/// the code (.text) at `codeOffset`. Page 1, the data the code reads, is
/// written per process by `SentryVDSO.data`.
struct VDSOImage {
    static let pageSize = 4096
    /// Where the code starts; vdso.S addresses its data page as 0x400 past it.
    static let codeOffset = 0xc00
    static let soname = "linux-vdso.so.1"
    static let version = "LINUX_2.6"

    /// An exported function: its name without the `__vdso_` prefix, where it starts in the code and its length.
    struct Function {
        let name: String
        let offset: Int
        let size: Int
    }

    /// Each function is exported as `__vdso_NAME` (global) and `NAME` (weak), both at version LINUX_2.6.
    struct Symbol {
        let name: String
        let weak: Bool
        let value: UInt64
        let size: UInt64
    }

    static func build(code: [UInt8], functions: [Function]) -> [UInt8] {
        precondition(code.count <= pageSize - codeOffset, "the vDSO code must fit below its data page")
        var symbols: [Symbol] = []
        for function in functions {
            let value = UInt64(codeOffset + function.offset)
            let size = UInt64(function.size)
            symbols.append(Symbol(name: "__vdso_" + function.name, weak: false, value: value, size: size))
            symbols.append(Symbol(name: function.name, weak: true, value: value, size: size))
        }
        let gnuHash = GNUHashTable(names: symbols.map(\.name))
        symbols = gnuHash.order.map { symbols[$0] }

        var strings = StringTable()
        let sonameName = strings.add(soname)
        let versionName = strings.add(version)
        let symbolNames = symbols.map { strings.add($0.name) }
        var sectionNames = StringTable()

        var out = ELFWriter(size: pageSize)
        var sections: [SectionHeader] = [SectionHeader(name: 0, type: 0, flags: 0, offset: 0, size: 0)]
        func section(
            _ name: String, type: UInt32, flags: UInt64 = 2 /* SHF_ALLOC */, align: Int = 8,
            entrySize: UInt64 = 0, link: UInt32 = 0, info: UInt32 = 0, bytes: [UInt8]
        ) -> Int {
            let offset = out.append(bytes, align: align)
            sections.append(
                SectionHeader(
                    name: sectionNames.add(name), type: type, flags: flags, offset: offset,
                    size: bytes.count, link: link, info: info, align: UInt64(align),
                    entrySize: entrySize))
            return offset
        }
        let programHeaders = 2
        out.position = 64 + programHeaders * 56
        // Section indices, fixed by the order below.
        let dynsymIndex: UInt32 = 3
        let dynstrIndex: UInt32 = 4
        let textIndex = 8

        let sysvHash = section(
            ".hash", type: 5, entrySize: 4, link: dynsymIndex,
            bytes: sysvHashTable(names: symbols.map(\.name)))
        let gnuHashAt = section(".gnu.hash", type: 0x6fff_fff6, link: dynsymIndex, bytes: gnuHash.bytes)
        var symtab = [UInt8](repeating: 0, count: 24)  // symbol 0: undefined
        for (symbol, name) in zip(symbols, symbolNames) {
            var entry = ELFWriter(size: 24)
            entry.put32(name, at: 0)
            entry.bytes[4] = (symbol.weak ? 2 : 1) << 4 | 2  // STB_WEAK/STB_GLOBAL, STT_FUNC
            entry.put16(UInt16(textIndex), at: 6)
            entry.put64(symbol.value, at: 8)
            entry.put64(symbol.size, at: 16)
            symtab += entry.bytes
        }
        let dynsym = section(".dynsym", type: 11, entrySize: 24, link: dynstrIndex, info: 1, bytes: symtab)
        let dynstr = section(".dynstr", type: 3, align: 1, bytes: strings.bytes)
        // Symbol 0 is local (0); every other has version index 2, LINUX_2.6.
        let versym = section(
            ".gnu.version", type: 0x6fff_ffff, align: 2, entrySize: 2, link: dynsymIndex,
            bytes: [0, 0] + Array(repeating: [2, 0], count: symbols.count).flatMap { $0 })
        let verdef = section(
            ".gnu.version_d", type: 0x6fff_fffd, link: dynstrIndex, info: 2,
            bytes: versionDefinitions([(sonameName, soname), (versionName, version)]))
        let dynamicEntries: [(Int64, UInt64)] = [
            (14, UInt64(sonameName)),  // DT_SONAME
            (4, UInt64(sysvHash)), (0x6fff_fef5, UInt64(gnuHashAt)),  // DT_HASH, DT_GNU_HASH
            (5, UInt64(dynstr)), (6, UInt64(dynsym)),  // DT_STRTAB, DT_SYMTAB
            (10, UInt64(strings.bytes.count)), (11, 24),  // DT_STRSZ, DT_SYMENT
            (0x6fff_fffc, UInt64(verdef)), (0x6fff_fffd, 2),  // DT_VERDEF, DT_VERDEFNUM
            (0x6fff_fff0, UInt64(versym)),  // DT_VERSYM
            (0, 0)  // DT_NULL
        ]
        var dynamicBytes = ELFWriter(size: dynamicEntries.count * 16)
        for (index, entry) in dynamicEntries.enumerated() {
            dynamicBytes.put64(UInt64(bitPattern: entry.0), at: index * 16)
            dynamicBytes.put64(entry.1, at: index * 16 + 8)
        }
        let dynamic = section(
            ".dynamic", type: 6, flags: 3 /* SHF_WRITE|SHF_ALLOC, as the kernel's */,
            entrySize: 16, link: dynstrIndex, bytes: dynamicBytes.bytes)
        precondition(sections.count == textIndex, "the symbols name .text as section \(textIndex)")
        sections.append(
            SectionHeader(
                name: sectionNames.add(".text"), type: 1, flags: 6 /* SHF_ALLOC|SHF_EXECINSTR */,
                offset: codeOffset, size: code.count, align: 16))
        let shstrtabIndex = sections.count
        let shstrtabName = sectionNames.add(".shstrtab")
        let shstrtab = out.append(sectionNames.bytes, align: 1)
        sections.append(
            SectionHeader(
                name: shstrtabName, type: 3, flags: 0, offset: shstrtab,
                size: sectionNames.bytes.count, align: 1))
        let sectionHeaders = out.append(sections.flatMap(\.bytes), align: 8)
        precondition(out.position <= codeOffset, "the vDSO's tables must end before its code")
        out.bytes.replaceSubrange(codeOffset..<(codeOffset + code.count), with: code)

        // Elf64_Ehdr
        out.bytes.replaceSubrange(0..<8, with: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
        out.put16(3, at: 16)  // ET_DYN
        out.put16(62, at: 18)  // EM_X86_64
        out.put32(1, at: 20)  // EV_CURRENT
        out.put64(64, at: 32)  // e_phoff
        out.put64(UInt64(sectionHeaders), at: 40)  // e_shoff
        out.put16(64, at: 52)  // e_ehsize
        out.put16(56, at: 54)  // e_phentsize
        out.put16(UInt16(programHeaders), at: 56)
        out.put16(64, at: 58)  // e_shentsize
        out.put16(UInt16(sections.count), at: 60)
        out.put16(UInt16(shstrtabIndex), at: 62)
        // Program headers: PT_LOAD (both pages, read and execute) and PT_DYNAMIC.
        let segments: [(type: UInt32, flags: UInt32, offset: Int, size: Int, align: UInt64)] = [
            (1, 5, 0, 2 * pageSize, UInt64(pageSize)),
            (2, 4, dynamic, dynamicBytes.bytes.count, 8)
        ]
        for (index, segment) in segments.enumerated() {
            let at = 64 + index * 56
            out.put32(segment.type, at: at)
            out.put32(segment.flags, at: at + 4)
            for field in [8, 16, 24] { out.put64(UInt64(segment.offset), at: at + field) }  // offset, vaddr, paddr
            out.put64(UInt64(segment.size), at: at + 32)
            out.put64(UInt64(segment.size), at: at + 40)
            out.put64(segment.align, at: at + 48)
        }
        return out.bytes
    }

    /// Two Elf64_Verdef entries, each with one Elf64_Verdaux: the base (the soname) and `LINUX_2.6`.
    static func versionDefinitions(_ definitions: [(nameOffset: UInt32, name: String)]) -> [UInt8] {
        var out = ELFWriter(size: definitions.count * 28)
        for (index, definition) in definitions.enumerated() {
            let at = index * 28
            out.put16(1, at: at)  // vd_version
            out.put16(index == 0 ? 1 : 0, at: at + 2)  // vd_flags: VER_FLG_BASE for the first
            out.put16(UInt16(index + 1), at: at + 4)  // vd_ndx
            out.put16(1, at: at + 6)  // vd_cnt
            out.put32(elfHash(definition.name), at: at + 8)  // vd_hash
            out.put32(20, at: at + 12)  // vd_aux: right after this entry
            out.put32(index + 1 < definitions.count ? 28 : 0, at: at + 16)  // vd_next
            out.put32(definition.nameOffset, at: at + 20)  // vda_name
            out.put32(0, at: at + 24)  // vda_next
        }
        return out.bytes
    }

    /// The SysV hash table over symbols 1...n (symbol 0 is the undefined one).
    static func sysvHashTable(names: [String]) -> [UInt8] {
        let buckets = 3
        let chains = names.count + 1
        var bucket = [UInt32](repeating: 0, count: buckets)
        var chain = [UInt32](repeating: 0, count: chains)
        for (index, name) in names.enumerated().reversed() {
            let symbol = UInt32(index + 1)
            let slot = Int(elfHash(name) % UInt32(buckets))
            chain[Int(symbol)] = bucket[slot]
            bucket[slot] = symbol
        }
        let words = [UInt32(buckets), UInt32(chains)] + bucket + chain
        var out = ELFWriter(size: words.count * 4)
        for (index, word) in words.enumerated() { out.put32(word, at: index * 4) }
        return out.bytes
    }

    /// The System V ABI's hash of a symbol or version name.
    static func elfHash(_ name: String) -> UInt32 {
        var h: UInt32 = 0
        for byte in name.utf8 {
            h = (h << 4) &+ UInt32(byte)
            let g = h & 0xf000_0000
            if g != 0 { h ^= g >> 24 }
            h &= ~g
        }
        return h
    }

    /// GNU's hash of a symbol name (DT_GNU_HASH).
    static func gnuHash(_ name: String) -> UInt32 {
        name.utf8.reduce(UInt32(5381)) { $0 &* 33 &+ UInt32($1) }
    }
}

/// A DT_GNU_HASH table over all exported symbols: symbols must be ordered by
/// bucket, so `order` says which input name goes at dynsym index 1, 2, ...
struct GNUHashTable {
    static let buckets = 3, bloomShift = 6
    let order: [Int]
    let bytes: [UInt8]

    init(names: [String]) {
        let hashes = names.map(VDSOImage.gnuHash)
        let order = names.indices.sorted {
            (hashes[$0] % UInt32(Self.buckets), $0) < (hashes[$1] % UInt32(Self.buckets), $1)
        }
        var bloom: UInt64 = 0
        var bucket = [UInt32](repeating: 0, count: Self.buckets)
        var chain: [UInt32] = []
        for (position, index) in order.enumerated() {
            let hash = hashes[index]
            let slot = Int(hash % UInt32(Self.buckets))
            bloom |= 1 << UInt64(hash % 64) | 1 << UInt64((hash >> UInt32(Self.bloomShift)) % 64)
            if bucket[slot] == 0 { bucket[slot] = UInt32(position + 1) }
            let last = position + 1 == order.count || hashes[order[position + 1]] % UInt32(Self.buckets) != UInt32(slot)
            chain.append(last ? hash | 1 : hash & ~1)
        }
        // nbuckets, symoffset (first hashed symbol), bloom words, bloom shift; the bloom word; buckets; chains.
        var out = ELFWriter(size: 16 + 8 + 4 * (Self.buckets + chain.count))
        for (index, word) in [UInt32(Self.buckets), 1, 1, UInt32(Self.bloomShift)].enumerated() {
            out.put32(word, at: index * 4)
        }
        out.put64(bloom, at: 16)
        for (index, word) in (bucket + chain).enumerated() { out.put32(word, at: 24 + index * 4) }
        self.order = order
        self.bytes = out.bytes
    }
}

/// A string table: a leading NUL, then each string once with its NUL.
struct StringTable {
    private(set) var bytes: [UInt8] = [0]
    private var offsets: [String: UInt32] = [:]

    mutating func add(_ string: String) -> UInt32 {
        if let known = offsets[string] { return known }
        let offset = UInt32(bytes.count)
        bytes += Array(string.utf8) + [0]
        offsets[string] = offset
        return offset
    }
}

/// One Elf64_Shdr.
struct SectionHeader {
    let name: UInt32, type: UInt32, flags: UInt64
    let offset: Int, size: Int
    var link: UInt32 = 0, info: UInt32 = 0, align: UInt64 = 0, entrySize: UInt64 = 0

    var bytes: [UInt8] {
        var out = ELFWriter(size: 64)
        out.put32(name, at: 0)
        out.put32(type, at: 4)
        out.put64(flags, at: 8)
        out.put64(flags & 2 != 0 ? UInt64(offset) : 0, at: 16)  // sh_addr: loaded at its offset
        out.put64(UInt64(offset), at: 24)
        out.put64(UInt64(size), at: 32)
        out.put32(link, at: 40)
        out.put32(info, at: 44)
        out.put64(align, at: 48)
        out.put64(entrySize, at: 56)
        return out.bytes
    }
}

/// Little-endian bytes of a fixed size, with an append cursor.
struct ELFWriter {
    var bytes: [UInt8]
    var position = 0

    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    /// Writes `data` at the cursor, aligned; returns where it went.
    mutating func append(_ data: [UInt8], align: Int) -> Int {
        let at = (position + align - 1) / align * align
        if at + data.count > bytes.count { bytes += [UInt8](repeating: 0, count: at + data.count - bytes.count) }
        bytes.replaceSubrange(at..<(at + data.count), with: data)
        position = at + data.count
        return at
    }

    mutating func put64(_ value: UInt64, at offset: Int) { put(value, at: offset, count: 8) }
    mutating func put32(_ value: UInt32, at offset: Int) { put(UInt64(value), at: offset, count: 4) }
    mutating func put16(_ value: UInt16, at offset: Int) { put(UInt64(value), at: offset, count: 2) }

    private mutating func put(_ value: UInt64, at offset: Int, count: Int) {
        for i in 0..<count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
}
