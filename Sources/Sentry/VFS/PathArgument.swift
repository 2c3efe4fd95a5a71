import Glibc
import Platform

/// A path argument, copied once out of the tracee (the TOCTOU rule): every
/// decision and the lookup itself use these bytes, never the memory again.
enum PathArgument {
    static let maximum = Int(PATH_MAX)

    /// Reads the NUL-terminated string at `address`, one page at a time so
    /// that a string ending just before unmapped memory still reads.
    static func read(_ memory: TraceeMemory, _ address: UInt64) throws(Errno) -> [UInt8] {
        if address == 0 { throw .fault }
        var bytes: [UInt8] = []
        var at = address
        while bytes.count < maximum {
            let toPageEnd = 4096 - Int(at & 4095)
            let chunk = try memory.read(at, count: min(toPageEnd, maximum - bytes.count))
            if let end = chunk.firstIndex(of: 0) { return bytes + chunk[..<end] }
            if chunk.count < min(toPageEnd, maximum - bytes.count) { throw .fault }
            bytes += chunk
            at += UInt64(chunk.count)
        }
        throw Errno(ENAMETOOLONG)
    }
}

extension Array where Element == UInt8 {
    /// These bytes as a NUL-terminated C string (paths need not be UTF-8).
    func withPath<T>(_ body: (UnsafePointer<CChar>) throws(Errno) -> T) throws(Errno) -> T {
        let terminated = self + [0]
        return try terminated.withUnsafeBufferPointer { buffer throws(Errno) in
            try buffer.withMemoryRebound(to: CChar.self) { chars throws(Errno) in try body(chars.baseAddress!) }
        }
    }
}
