import CShims

/// <sys/statvfs.h>: the mount flags statfs reports in f_flags (ST_*).
public enum MountFlags {
    /// A noexec mount: execve refuses its files with EACCES.
    public static let noExec = moat_abi.st_noexec
}
