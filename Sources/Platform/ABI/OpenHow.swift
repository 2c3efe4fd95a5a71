import CShims

/// <linux/openat2.h>: the RESOLVE_ flags, and struct open_how as a caller passes it.
public struct OpenHow: Sendable, Equatable {
    public var flags: UInt64
    public var mode: UInt64
    public var resolve: UInt64

    /// The struct's size in this kernel's ABI (open_how grows by appending; a
    /// larger argument is accepted when the bytes past this are zero).
    public static let size = MemoryLayout<open_how>.size

    /// Decodes the first `size` bytes of `bytes` (nil when shorter).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= OpenHow.size else { return nil }
        let how = bytes.withUnsafeBytes { $0.loadUnaligned(as: open_how.self) }
        flags = how.flags
        mode = how.mode
        resolve = how.resolve
    }

    public init(flags: UInt64, mode: UInt64, resolve: UInt64) {
        self.flags = flags
        self.mode = mode
        self.resolve = resolve
    }
}

public enum Resolve {
    public static let noXDev = UInt64(RESOLVE_NO_XDEV)
    public static let noMagicLinks = UInt64(RESOLVE_NO_MAGICLINKS)
    public static let noSymlinks = UInt64(RESOLVE_NO_SYMLINKS)
    public static let beneath = UInt64(RESOLVE_BENEATH)
    public static let inRoot = UInt64(RESOLVE_IN_ROOT)
    public static let cached = UInt64(RESOLVE_CACHED)
    /// Every flag this ABI knows.
    public static let all = noXDev | noMagicLinks | noSymlinks | beneath | inRoot | cached
}
