import CShims
import Glibc

/// The host calls the sentry makes on paths and descriptors it resolved,
/// over CShims (raw syscalls glibc lacks or wraps differently). Each returns
/// what the kernel did: the value, or -errno.
public enum PathCalls {
    /// A `struct statx` (kernel layout, from <linux/stat.h>).
    public typealias Statx = CShims.statx
    /// A `struct statfs` (glibc's is the kernel's layout: CShims/abi.c checks).
    public typealias Statfs = CShims.statfs

    /// openat2(2): an fd or -errno.
    public static func openat2(_ dirfd: Int32, _ path: UnsafePointer<CChar>, flags: UInt64, mode: UInt64, resolve: UInt64) -> Int {
        moat_openat2(dirfd, path, flags, mode, resolve)
    }

    /// faccessat2(fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) as this thread's credentials: 0 or -errno.
    public static func access(_ fd: Int32, _ mode: Int32) -> Int {
        moat_access_fd(fd, mode)
    }

    /// fstatfs(2): 0 or -errno.
    public static func fstatfs(_ fd: Int32, into buffer: inout Statfs) -> Int {
        moat_fstatfs(fd, &buffer)
    }

    /// statx(fd, "", AT_EMPTY_PATH | `flags`, `mask`): 0 or -errno.
    public static func statx(_ fd: Int32, flags: Int32, mask: UInt32, into buffer: inout Statx) -> Int {
        moat_statx_fd(fd, flags, mask, &buffer)
    }

    /// renameat2(2): 0 or -errno.
    public static func renameat2(
        _ oldDir: Int32, _ oldName: UnsafePointer<CChar>, _ newDir: Int32, _ newName: UnsafePointer<CChar>,
        flags: UInt32
    ) -> Int {
        moat_renameat2(oldDir, oldName, newDir, newName, flags)
    }

    /// getxattr of (dirfd, path, AT_* flags): the value's size or -errno.
    public static func getxattr(
        _ dirfd: Int32, _ path: UnsafePointer<CChar>, flags: Int32, name: UnsafePointer<CChar>,
        into value: UnsafeMutableRawPointer?, size: Int
    ) -> Int {
        moat_getxattrat(dirfd, path, flags, name, value, size)
    }

    /// setxattr of (dirfd, path, AT_* flags): 0 or -errno.
    public static func setxattr(
        _ dirfd: Int32, _ path: UnsafePointer<CChar>, flags: Int32, name: UnsafePointer<CChar>,
        value: UnsafeRawPointer?, size: Int, xattrFlags: Int32
    ) -> Int {
        moat_setxattrat(dirfd, path, flags, name, value, size, xattrFlags)
    }

    /// listxattr of (dirfd, path, AT_* flags): the list's size or -errno.
    public static func listxattr(
        _ dirfd: Int32, _ path: UnsafePointer<CChar>, flags: Int32, into list: UnsafeMutablePointer<CChar>?,
        size: Int
    ) -> Int {
        moat_listxattrat(dirfd, path, flags, list, size)
    }

    /// removexattr of (dirfd, path, AT_* flags): 0 or -errno.
    public static func removexattr(_ dirfd: Int32, _ path: UnsafePointer<CChar>, flags: Int32, name: UnsafePointer<CChar>) -> Int {
        moat_removexattrat(dirfd, path, flags, name)
    }

    /// A close-on-exec memfd named `name`, or -errno.
    public static func memfd(_ name: String) -> Int {
        moat_memfd(name)
    }

    /// openat(2) with CAP_SYS_PTRACE dropped for the call: an fd or -errno.
    public static func openAsHeld(_ dirfd: Int32, _ path: String, flags: Int32) -> Int32 {
        moat_open_as_held(dirfd, path, flags)
    }

    /// inotify_add_watch on what `fd` names (through /proc at `proc`, the
    /// serving thread's cwd restored to `home` after): the watch or -errno.
    public static func inotifyWatch(_ inotify: Int32, proc: Int32, fd: Int32, mask: UInt32, home: Int32) -> Int {
        moat_inotify_watch_fd(inotify, proc, fd, mask, home)
    }
}
