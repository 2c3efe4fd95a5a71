import CShims
import Glibc

/// <sys/socket.h>: struct msghdr, iovec, cmsghdr and ucred as a caller's
/// memory holds them, decoded by their C layouts (x86-64).
public struct MessageHeader: Sendable, Equatable {
    public var name: UInt64
    public var nameLength: Int
    public var vectors: UInt64
    public var vectorCount: Int
    public var control: UInt64
    public var controlLength: Int

    public static let size = MemoryLayout<msghdr>.size

    /// Decodes a struct msghdr (nil when `bytes` is shorter).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= MessageHeader.size else { return nil }
        let header = bytes.withUnsafeBytes { $0.loadUnaligned(as: msghdr.self) }
        name = UInt64(UInt(bitPattern: header.msg_name))
        nameLength = Int(header.msg_namelen)
        vectors = UInt64(UInt(bitPattern: header.msg_iov))
        vectorCount = Int(bitPattern: UInt(header.msg_iovlen))
        control = UInt64(UInt(bitPattern: header.msg_control))
        controlLength = Int(bitPattern: UInt(header.msg_controllen))
    }
}

/// struct mmsghdr (sendmmsg, recvmmsg): a msghdr and the bytes sent.
public enum MultipleMessageHeader {
    public static let size = Int(moat_abi.mmsghdr_size)
    public static let lengthOffset = Int(moat_abi.mmsghdr_len_offset)
}

/// A struct iovec: where one piece of a message's data is, and how long.
public struct IOVector: Sendable, Equatable {
    public var base: UInt64
    public var length: Int

    public static let size = MemoryLayout<iovec>.size

    /// Decodes the `index`th struct iovec of `bytes` (nil past its end).
    public init?(_ bytes: [UInt8], index: Int) {
        guard index >= 0, (index + 1) * IOVector.size <= bytes.count else { return nil }
        let vector = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * IOVector.size, as: iovec.self) }
        base = UInt64(UInt(bitPattern: vector.iov_base))
        length = Int(bitPattern: UInt(vector.iov_len))
    }
}

/// The header of one control message (struct cmsghdr), and the types Moat reads.
public struct ControlMessageHeader: Sendable, Equatable {
    public var length: Int
    public var level: Int32
    public var type: Int32

    public static let size = MemoryLayout<cmsghdr>.size
    public static let rights = moat_abi.scm_rights
    public static let credentials = moat_abi.scm_credentials

    /// Decodes the header at `offset` (nil when it does not fit).
    public init?(_ bytes: [UInt8], at offset: Int) {
        guard offset >= 0, offset + ControlMessageHeader.size <= bytes.count else { return nil }
        let header = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self) }
        length = Int(bitPattern: UInt(header.cmsg_len))
        level = header.cmsg_level
        type = header.cmsg_type
    }

    /// The header of a message carrying `dataLength` bytes (cmsg_len is CMSG_LEN).
    public static func bytes(level: Int32, type: Int32, dataLength: Int) -> [UInt8] {
        var header = cmsghdr()
        header.cmsg_len = size + dataLength
        header.cmsg_level = level
        header.cmsg_type = type
        return withUnsafeBytes(of: &header) { Array($0) }
    }

    /// Where the next message starts after one of `length` bytes (CMSG_ALIGN).
    public static func aligned(_ length: Int) -> Int {
        let word = MemoryLayout<Int>.size
        return (length + word - 1) & ~(word - 1)
    }
}

/// struct ucred (SCM_CREDENTIALS' data).
public struct UserCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public static let size = MemoryLayout<moat_ucred>.size

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// As the kernel reads it.
    public var bytes: [UInt8] {
        var credentials = moat_ucred(pid: pid, uid: uid, gid: gid)
        return withUnsafeBytes(of: &credentials) { Array($0) }
    }

    public init?(_ bytes: [UInt8]) {
        guard bytes.count == UserCredentials.size else { return nil }
        let credentials = bytes.withUnsafeBytes { $0.loadUnaligned(as: moat_ucred.self) }
        pid = credentials.pid
        uid = credentials.uid
        gid = credentials.gid
    }
}
