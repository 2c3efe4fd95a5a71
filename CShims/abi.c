// The Linux constants of struct moat_abi, taken from the C headers.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/vfs.h>
#include <sys/statvfs.h>
#include "cshims.h"

// statfs(2) copies the kernel's struct statfs out as glibc's: 120 bytes, f_flags at 80.
_Static_assert(sizeof(struct statfs) == 120 && offsetof(struct statfs, f_flags) == 80, "struct statfs");

_Static_assert(sizeof(struct ucred) == sizeof(struct moat_ucred), "struct ucred");
_Static_assert(offsetof(struct ucred, pid) == offsetof(struct moat_ucred, pid), "ucred.pid");
_Static_assert(offsetof(struct ucred, uid) == offsetof(struct moat_ucred, uid), "ucred.uid");
_Static_assert(offsetof(struct ucred, gid) == offsetof(struct moat_ucred, gid), "ucred.gid");

const struct moat_abi moat_abi = {
    .at_symlink_nofollow = AT_SYMLINK_NOFOLLOW,
    .at_eaccess = AT_EACCESS,
    .at_no_automount = AT_NO_AUTOMOUNT,
    .at_empty_path = AT_EMPTY_PATH,
    .at_statx_force_sync = AT_STATX_FORCE_SYNC,
    .at_statx_dont_sync = AT_STATX_DONT_SYNC,
    .o_path = O_PATH,
    .o_tmpfile = O_TMPFILE,
    .in_dont_follow = IN_DONT_FOLLOW,
    .scm_rights = SCM_RIGHTS,
    .scm_credentials = SCM_CREDENTIALS,
    .mmsghdr_size = sizeof(struct mmsghdr),
    .mmsghdr_len_offset = offsetof(struct mmsghdr, msg_len),
    .st_noexec = ST_NOEXEC,
};
