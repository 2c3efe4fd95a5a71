// CShims/files.c: lookups and file work in the sandbox's root under a workload thread's credentials; unix socket paths.
#ifndef MOAT_FILES_H
#define MOAT_FILES_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/vfs.h>         // struct statfs
#include <linux/stat.h>      // struct statx, which Glibc's module leaves out
#include <linux/openat2.h>   // struct open_how and the RESOLVE_ flags

#pragma clang assume_nonnull begin


long moat_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);  // fd or -errno
int moat_open_as_held(int dirfd, const char *path, int flags);   // fd or -errno, CAP_SYS_PTRACE dropped
int moat_enter_credentials(uint32_t fsuid, uint32_t fsgid, const uint32_t *_Nullable groups, int ngroups, uint64_t effective);  // 0 or -errno
int moat_leave_credentials(void);
long moat_statx_fd(int fd, int flags, unsigned int mask, struct statx *buffer);   // 0 or -errno
long moat_access_fd(int fd, int mode);                                    // 0 or -errno
long moat_fstatfs(int fd, struct statfs *buffer);   // 0 or -errno
long moat_setns(int fd);                   // this thread only: 0 or -errno
long moat_memfd(const char *name);         // close-on-exec memfd or -errno
int moat_take_fd(pid_t pid, int target);   // pidfd_getfd: our copy of another process's fd, or -errno
int moat_unshare_fs(void);                 // this thread's own cwd and umask: 0 or -errno

enum { MOAT_UNIX_BIND, MOAT_UNIX_SENDTO };

int moat_tgkill(pid_t tgid, pid_t tid, int signal);
pid_t moat_gettid(void);
long moat_unix_in_root(int sock, const void *_Nullable addr, unsigned int length, int operation,
                       const void *_Nullable data, size_t size, int flags,
                       int sandbox_root, int caller_cwd, int host_root, int home,
                       const uint32_t *_Nullable caller_ids, uint64_t caller_caps,
                       const void *_Nullable control, size_t control_length, uint64_t keep_caps);  // 0, bytes sent, or -errno
                       // caller_ids: real uid, effective uid, real gid, effective gid the peer is to see (NULL: the thread's);
                       // control: control messages to send with the data; keep_caps: capabilities the send needs beyond the caller's
int moat_unix_peer_file(int sock, uint64_t *dev, uint32_t *ino);  // sock_diag: the file its peer is bound to; 0 or -errno
long moat_getxattrat(int dirfd, const char *path, int at_flags, const char *name, void *_Nullable value, size_t size);  // size or -errno
long moat_setxattrat(int dirfd, const char *path, int at_flags, const char *name, const void *_Nullable value, size_t size, int flags);
long moat_listxattrat(int dirfd, const char *path, int at_flags, char *_Nullable list, size_t size);
long moat_removexattrat(int dirfd, const char *path, int at_flags, const char *name);
long moat_inotify_watch_fd(int inotify, int proc, int fd, uint32_t mask, int home);   // wd or -errno
long moat_renameat2(int olddir, const char *oldname, int newdir, const char *newname, unsigned int flags);  // 0 or -errno

#pragma clang assume_nonnull end

#endif
