import CShims

/// <fcntl.h>: the AT_ flags of the *at calls and the open flags Glibc's
/// Swift module leaves out (values from the C headers, see CShims/abi.c).
public enum AT {
    public static let symlinkNoFollow = moat_abi.at_symlink_nofollow
    /// faccessat: check with the effective ids.
    public static let eAccess = moat_abi.at_eaccess
    public static let noAutomount = moat_abi.at_no_automount
    public static let emptyPath = moat_abi.at_empty_path
    public static let statxForceSync = moat_abi.at_statx_force_sync
    public static let statxDontSync = moat_abi.at_statx_dont_sync
    /// The statx sync-type bits.
    public static let statxSyncType = statxForceSync | statxDontSync
}

public enum OpenFlags {
    /// O_PATH.
    public static let path = moat_abi.o_path
    /// O_TMPFILE (it includes O_DIRECTORY).
    public static let temporaryFile = moat_abi.o_tmpfile
}

/// <sys/inotify.h>.
public enum Inotify {
    public static let dontFollow = moat_abi.in_dont_follow
}
