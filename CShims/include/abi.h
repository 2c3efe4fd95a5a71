// CShims/abi.c: Linux constants and layouts Glibc's Swift module leaves out.
#ifndef MOAT_ABI_H
#define MOAT_ABI_H

#include <stdint.h>

#pragma clang assume_nonnull begin

// Linux constants Glibc's Swift module leaves out (they need _GNU_SOURCE):
// filled in abi.c from the C headers, so no value is typed by hand.
struct moat_abi {
    int at_symlink_nofollow, at_eaccess, at_no_automount, at_empty_path, at_statx_force_sync, at_statx_dont_sync;
    int o_path, o_tmpfile;
    unsigned int in_dont_follow;
    int scm_rights, scm_credentials;
    unsigned int mmsghdr_size, mmsghdr_len_offset;   // struct mmsghdr
    unsigned long st_noexec;                         // statfs f_flags: a noexec mount
};

extern const struct moat_abi moat_abi;

// struct ucred (a _GNU_SOURCE type): abi.c checks this layout against <sys/socket.h>.
struct moat_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

#pragma clang assume_nonnull end

#endif
