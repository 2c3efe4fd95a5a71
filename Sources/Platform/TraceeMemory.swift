import CShims
import Glibc

/// Reads and writes a stopped tracee's memory with process_vm_readv/writev.
/// Each call copies once; callers never read the same pointer twice.
public struct TraceeMemory {
    public let tid: HostTid
    public init(_ tid: HostTid) { self.tid = tid }

    /// Reads up to `count` bytes; fewer when the range runs into unmapped memory.
    public func read(_ address: UInt64, count: Int) throws(Errno) -> [UInt8] {
        if count == 0 { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = moat_read_memory(tid, address, &bytes, count)
        if got < 0 { throw Errno.fault }
        bytes.removeLast(count - got)
        return bytes
    }

    /// Reads one value of a trivial type (exactly its size, or EFAULT).
    public func load<T: BitwiseCopyable>(_ type: T.Type, at address: UInt64) throws(Errno) -> T {
        let bytes = try read(address, count: MemoryLayout<T>.size)
        if bytes.count != MemoryLayout<T>.size { throw Errno.fault }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    /// Writes one value of a trivial type, or EFAULT.
    public func store<T: BitwiseCopyable>(_ value: T, at address: UInt64) throws(Errno) {
        var copy = value
        let size = MemoryLayout<T>.size
        let wrote = moat_write_memory(tid, address, &copy, size)
        if wrote != size { throw Errno.fault }
    }

    /// Writes through /proc/<tid>/mem, which also writes pages the tracee
    /// may only read or execute (as a debugger's breakpoints: the kernel
    /// copies the page for it). Only the tracer may, where the kernel is
    /// built to allow it to its tracer alone (proc_mem.force_override).
    public func writeForced(_ bytes: [UInt8], at address: UInt64) throws(Errno) {
        let fd = HostProcfs.open("\(tid)/mem", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw Errno.current }
        defer { close(fd) }
        let wrote = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(Int64(bitPattern: address))) }
        if wrote != bytes.count { throw wrote < 0 ? Errno.current : Errno.fault }
    }

    public func write(_ bytes: [UInt8], at address: UInt64) throws(Errno) {
        if bytes.isEmpty { return }
        let wrote = moat_write_memory(tid, address, bytes, bytes.count)
        if wrote != bytes.count { throw Errno.fault }
    }
}
