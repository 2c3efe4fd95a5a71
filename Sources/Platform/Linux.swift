import Glibc

/// Kernel constants the Glibc module does not export (they sit behind
/// _GNU_SOURCE or in linux/ headers).
public enum Linux {
    public static let cloneNewTime: UInt = 0x0000_0080
    public static let cloneNewNS: UInt = 0x0002_0000
    public static let cloneNewCgroup: UInt = 0x0200_0000
    public static let cloneNewUTS: UInt = 0x0400_0000
    public static let cloneNewIPC: UInt = 0x0800_0000
    public static let cloneNewUser: UInt = 0x1000_0000
    public static let cloneNewPID: UInt = 0x2000_0000
    public static let cloneNewNet: UInt = 0x4000_0000
    public static let allNamespaceFlags =
        cloneNewTime | cloneNewNS | cloneNewCgroup | cloneNewUTS
        | cloneNewIPC | cloneNewUser | cloneNewPID | cloneNewNet
    /// Whether this process runs without root: rootless mode (a user namespace, no cgroups).
    /// (Read once: the supervisor never changes its effective uid outside one C call.)
    public static let rootless: Bool = geteuid() != 0
}
