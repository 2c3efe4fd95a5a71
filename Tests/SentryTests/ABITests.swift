import Platform
import Testing

/// The ABI layer (Platform/ABI): constants from the C headers and struct
/// layouts decoded as the kernel lays them out on x86-64.
@Suite struct ABITests {
    @Test func constantsAreTheKernels() {
        #expect(AT.symlinkNoFollow == 0x100 && AT.eAccess == 0x200 && AT.noAutomount == 0x800 && AT.emptyPath == 0x1000)
        #expect(AT.statxSyncType == 0x6000)
        #expect(OpenFlags.path == 0o10000000 && OpenFlags.temporaryFile == 0o20200000)
        #expect(Inotify.dontFollow == 0x0200_0000)
        #expect(Resolve.noXDev == 0x01 && Resolve.noMagicLinks == 0x02 && Resolve.noSymlinks == 0x04)
        #expect(Resolve.beneath == 0x08 && Resolve.inRoot == 0x10 && Resolve.cached == 0x20 && Resolve.all == 0x3f)
        #expect(ControlMessageHeader.rights == 1 && ControlMessageHeader.credentials == 2)
    }

    static func words(_ values: [UInt64]) -> [UInt8] {
        values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    }

    @Test func openHow() {
        #expect(OpenHow.size == 24)
        #expect(OpenHow(ABITests.words([0o100, 0o644, 0x10])) == OpenHow(flags: 0o100, mode: 0o644, resolve: 0x10))
        #expect(OpenHow([UInt8](repeating: 0, count: 23)) == nil)
    }

    @Test func messageHeaders() {
        #expect(MessageHeader.size == 56 && IOVector.size == 16 && MultipleMessageHeader.size == 64)
        #expect(MultipleMessageHeader.lengthOffset == 56)
        // msg_name, msg_namelen (a u32, then padding), msg_iov, msg_iovlen, msg_control, msg_controllen, msg_flags.
        let header = ABITests.words([0x1000, 110, 0x2000, 3, 0x3000, 40, 0])
        let decoded = MessageHeader(header)
        #expect(decoded?.name == 0x1000 && decoded?.nameLength == 110 && decoded?.vectors == 0x2000)
        #expect(decoded?.vectorCount == 3 && decoded?.control == 0x3000 && decoded?.controlLength == 40)
        #expect(MessageHeader(Array(header.prefix(55))) == nil)
        let vectors = ABITests.words([0xa000, 5, 0xb000, 7])
        #expect(IOVector(vectors, index: 1) == IOVector(vectors, index: 1) && IOVector(vectors, index: 1)?.base == 0xb000)
        #expect(IOVector(vectors, index: 1)?.length == 7 && IOVector(vectors, index: 2) == nil)
    }

    @Test func controlMessages() {
        #expect(ControlMessageHeader.size == 16)
        let credentials = UserCredentials(pid: 42, uid: 1000, gid: 100)
        #expect(credentials.bytes.count == 12 && UserCredentials(credentials.bytes) == credentials)
        let message = ControlMessageHeader.bytes(level: 1, type: ControlMessageHeader.credentials, dataLength: 12) + credentials.bytes
        let header = ControlMessageHeader(message, at: 0)
        #expect(header?.length == 28 && header?.level == 1 && header?.type == 2)
        #expect(ControlMessageHeader(message, at: 13) == nil)
        #expect(ControlMessageHeader.aligned(28) == 32 && ControlMessageHeader.aligned(32) == 32)
    }
}
