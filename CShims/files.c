// The sentry's file work on behalf of a workload thread: path lookups
// confined to the sandbox's root (openat2), done under that thread's
// credentials on the serving thread only (raw per-thread syscalls; glibc's
// wrappers would change every thread of the supervisor).
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>

long moat_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
    long rc = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return rc < 0 ? -errno : rc;
}

static int capabilities(uint64_t effective, uint64_t permitted) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)effective, (uint32_t)permitted, 0 },
        { (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), 0 },
    };
    return syscall(SYS_capset, &header, data) < 0 ? -errno : 0;
}

// Per thread: credentials are a thread's own in the kernel, and each
// serving thread holds its own caller's.
static __thread uint64_t saved_effective, saved_permitted;
static __thread uint32_t saved_groups[256];
static __thread int saved_ngroups;
static __thread int switched;

// Capabilities that decide file access: CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH,
// FOWNER, FSETID, LINUX_IMMUTABLE, NET_BIND_SERVICE (binds made for the
// caller), SYS_ADMIN, MKNOD, SETFCAP, MAC_OVERRIDE, MAC_ADMIN. The supervisor keeps its others (SYS_PTRACE, KILL ...) for its own work.
#define FILE_CAPS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 4) | (1ULL << 9) | \
                   (1ULL << 10) | (1ULL << 21) | (1ULL << 27) | (1ULL << 31) | (1ULL << 32) | (1ULL << 33))

// What a serving thread keeps of the supervisor's capabilities while it
// holds a caller's: SETGID and SETUID (the unix-socket calls take the
// caller's real ids and come back), SYS_CHROOT (they resolve in the
// sandbox's root), SYS_PTRACE (the caller's memory and fds; a check the
// kernel would make on the caller's ptrace access is made through
// moat_open_as_held).
#define MECHANICS ((1ULL << 6) | (1ULL << 7) | (1ULL << 18) | (1ULL << 19))

// Switches this thread's fs ids, groups and file capabilities to a
// workload thread's; they stay until moat_leave_credentials (consecutive
// calls with the same credentials switch nothing: the caller tracks that).
int moat_enter_credentials(uint32_t fsuid, uint32_t fsgid, const uint32_t *groups, int ngroups, uint64_t effective) {
    if (!switched) {
        struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];
        if (syscall(SYS_capget, &header, data) < 0) return -errno;
        saved_effective = data[0].effective | ((uint64_t)data[1].effective << 32);
        saved_permitted = data[0].permitted | ((uint64_t)data[1].permitted << 32);
        long n = syscall(SYS_getgroups, 256, saved_groups);
        saved_ngroups = n < 0 ? 0 : (int)n;
    } else {
        // setgroups needs CAP_SETGID, which the supervisor keeps; fs caps back first.
        capabilities(saved_effective, saved_permitted);
    }
    switched = 1;
    if (syscall(SYS_setgroups, ngroups, groups) < 0) return -errno;
    syscall(SYS_setfsgid, fsgid);
    syscall(SYS_setfsuid, fsuid);
    // setfsuid drops the file capabilities when leaving 0. The thread takes
    // exactly the caller's effective set (CAP_SYSLOG decides what
    // /proc/kallsyms shows, CAP_NET_ADMIN which netlink groups a bind joins),
    // plus what serving itself needs (MECHANICS).
    return capabilities((saved_effective & MECHANICS) | (effective & saved_permitted), saved_permitted);
}

// Opens `path` (relative to `dirfd`) with CAP_SYS_PTRACE dropped for the
// moment: the kernel then decides ptrace access to another process's /proc
// files (ids, dumpable, capability superset) for the credentials this
// thread holds, which are its caller's. The fd, or -errno.
int moat_open_as_held(int dirfd, const char *path, int flags) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) < 0) return -errno;
    uint64_t effective = data[0].effective | ((uint64_t)data[1].effective << 32);
    uint64_t permitted = data[0].permitted | ((uint64_t)data[1].permitted << 32);
    int rc = capabilities(effective & ~(1ULL << 19), permitted);
    if (rc < 0) return rc;
    int fd = openat(dirfd, path, flags | O_CLOEXEC);
    int error = errno;
    capabilities(effective, permitted);
    return fd < 0 ? -error : fd;
}

int moat_leave_credentials(void) {
    if (!switched) return 0;
    switched = 0;
    int rc = capabilities(saved_effective, saved_permitted);
    syscall(SYS_setfsuid, geteuid());
    syscall(SYS_setfsgid, getegid());
    if (syscall(SYS_setgroups, saved_ngroups, saved_groups) < 0 && rc == 0) rc = -errno;
    return rc;
}

// statx of an fd itself (AT_EMPTY_PATH); `flags` may add AT_STATX_* sync modes.
long moat_statx_fd(int fd, int flags, unsigned int mask, struct statx *buffer) {
    long rc = syscall(SYS_statx, fd, "", AT_EMPTY_PATH | flags, mask, buffer);
    return rc < 0 ? -errno : 0;
}

// access(2) of an fd itself, checked with the thread's fs ids (set by
// moat_enter_credentials to the ids the caller's check needs).
long moat_access_fd(int fd, int mode) {
    long rc = syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH | AT_EACCESS);
    return rc < 0 ? -errno : 0;
}

// statfs of an fd (glibc's struct statfs is the kernel's on x86_64: abi.c checks): 0 or -errno.
long moat_fstatfs(int fd, struct statfs *buffer) {
    long rc = syscall(SYS_fstatfs, fd, buffer);
    return rc < 0 ? -errno : 0;
}

// Moves the calling thread into the namespace `fd` names.
long moat_setns(int fd) {
    return syscall(SYS_setns, fd, 0) < 0 ? -errno : 0;
}

long moat_memfd(const char *name) {
    long rc = syscall(SYS_memfd_create, name, 1 /* MFD_CLOEXEC */);
    return rc < 0 ? -errno : rc;
}

long moat_renameat2(int olddir, const char *oldname, int newdir, const char *newname, unsigned int flags) {
    long rc = syscall(SYS_renameat2, olddir, oldname, newdir, newname, flags);
    return rc < 0 ? -errno : 0;
}

// A copy of fd `target` of process `pid` (its socket, for bind and connect).
int moat_take_fd(pid_t pid, int target) {
    long pidfd = syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -errno;
    long fd = syscall(SYS_pidfd_getfd, (int)pidfd, target, 0);
    int err = errno;
    close((int)pidfd);
    return fd < 0 ? -err : (int)fd;
}

// This thread gets its own cwd and umask (the sentry changes them for a
// workload thread's call without touching the supervisor's other threads).
int moat_unshare_fs(void) {
    return syscall(SYS_unshare, 0x00000200 /* CLONE_FS */) < 0 ? -errno : 0;
}

// bind(2), connect(2) or sendto(2) of `sock` with exactly the address the caller gave,
// with this thread chrooted into the sandbox's root and its cwd at the
// caller's, so the kernel resolves the path as the caller would and no
// further; then back to `host_root` and `home`. 0 (sendto: bytes sent) or
// -errno. A send into a full buffer waits, as the caller's would (on a
// serving thread; the socket's own O_NONBLOCK and MSG_DONTWAIT still hold).
// A sending socket hands its peer the ids of the thread that calls (real
// ones, SCM_CREDENTIALS; effective ones would be SO_PEERCRED's at connect). The serving thread takes the caller's real and
// effective ids for the call (its saved uid stays 0: the way back) and its
// file capabilities, then returns to the switched state it was in.
struct moat_saved_ids { int fsuid, fsgid; uint64_t effective, permitted; };

static int become_caller(const uint32_t ids[4], uint64_t file_caps, uint64_t keep_caps, struct moat_saved_ids *saved) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) < 0) return -errno;
    saved->effective = data[0].effective | ((uint64_t)data[1].effective << 32);
    saved->permitted = data[0].permitted | ((uint64_t)data[1].permitted << 32);
    saved->fsuid = (int)syscall(SYS_setfsuid, -1);
    saved->fsgid = (int)syscall(SYS_setfsgid, -1);
    if (syscall(SYS_setresgid, ids[2], ids[3], -1) < 0) return -errno;
    if (syscall(SYS_setresuid, ids[0], ids[1], -1) < 0) return -errno;
    syscall(SYS_setfsgid, saved->fsgid);
    syscall(SYS_setfsuid, saved->fsuid);
    return capabilities(((file_caps & FILE_CAPS) | keep_caps) & saved->permitted, saved->permitted);
}

static void back_from_caller(const struct moat_saved_ids *saved) {
    // euid 0 again restores the effective set; then CAP_SETGID allows the gids.
    if (syscall(SYS_setresuid, 0, 0, -1) < 0 || syscall(SYS_setresgid, 0, 0, -1) < 0) abort();
    syscall(SYS_setfsgid, saved->fsgid);
    syscall(SYS_setfsuid, saved->fsuid);
    if (capabilities(saved->effective, saved->permitted) < 0) abort();
}

long moat_unix_in_root(int sock, const void *addr, unsigned int length, int operation,
                       const void *data, size_t size, int flags,
                       int sandbox_root, int caller_cwd, int host_root, int home,
                       const uint32_t *caller_ids, uint64_t caller_caps,
                       const void *control, size_t control_length, uint64_t keep_caps) {
    if (syscall(SYS_fchdir, sandbox_root) < 0 || syscall(SYS_chroot, ".") < 0) return -errno;
    long rc = syscall(SYS_fchdir, caller_cwd);
    struct moat_saved_ids saved;
    int became = 0;
    if (rc == 0 && caller_ids && operation != MOAT_UNIX_BIND) {
        rc = become_caller(caller_ids, caller_caps, keep_caps, &saved);
        became = 1;
        if (rc < 0) { errno = (int)-rc; rc = -1; }
    }
    if (rc == 0) {
        if (operation == MOAT_UNIX_SENDTO) {
            struct iovec io = { (void *)data, size };
            struct msghdr message = { .msg_name = length ? (void *)addr : NULL, .msg_namelen = length,
                                      .msg_iov = &io, .msg_iovlen = 1,
                                      .msg_control = control_length ? (void *)control : NULL, .msg_controllen = control_length };
            rc = sendmsg(sock, &message, flags | MSG_NOSIGNAL);
        } else {
            rc = bind(sock, addr, length);
        }
    }
    int err = errno;
    if (became) back_from_caller(&saved);
    if (syscall(SYS_fchdir, host_root) < 0 || syscall(SYS_chroot, ".") < 0) abort();  // never serve on from inside
    syscall(SYS_fchdir, home);
    return rc < 0 ? -err : rc;
}

// Extended attributes through the *xattrat calls (Linux 6.13), of
// `path` relative to `dirfd` with `at_flags`. Size or -errno.
struct moat_xattr_args { uint64_t value; uint32_t size; uint32_t flags; };

long moat_getxattrat(int dirfd, const char *path, int at_flags, const char *name, void *value, size_t size) {
    struct moat_xattr_args args = { (uint64_t)(uintptr_t)value, (uint32_t)size, 0 };
    long rc = syscall(464, dirfd, path, at_flags, name, &args, sizeof args);
    return rc < 0 ? -errno : rc;
}

long moat_setxattrat(int dirfd, const char *path, int at_flags, const char *name, const void *value, size_t size, int flags) {
    struct moat_xattr_args args = { (uint64_t)(uintptr_t)value, (uint32_t)size, (uint32_t)flags };
    long rc = syscall(463, dirfd, path, at_flags, name, &args, sizeof args);
    return rc < 0 ? -errno : rc;
}

long moat_listxattrat(int dirfd, const char *path, int at_flags, char *list, size_t size) {
    long rc = syscall(465, dirfd, path, at_flags, list, size);
    return rc < 0 ? -errno : rc;
}

long moat_removexattrat(int dirfd, const char *path, int at_flags, const char *name) {
    long rc = syscall(466, dirfd, path, at_flags, name);
    return rc < 0 ? -errno : rc;
}

// inotify_add_watch on the file an O_PATH fd names (through our own
// /proc/self/fd/N, relative to the host's /proc, with this thread's cwd
// there for the call). The watch descriptor or -errno.
long moat_inotify_watch_fd(int inotify, int proc, int fd, uint32_t mask, int home) {
    char path[32];
    snprintf(path, sizeof path, "self/fd/%d", fd);
    if (syscall(SYS_fchdir, proc) < 0) return -errno;
    long rc = syscall(SYS_inotify_add_watch, inotify, path, mask);
    int err = errno;
    syscall(SYS_fchdir, home);
    return rc < 0 ? -err : rc;
}

int moat_tgkill(pid_t tgid, pid_t tid, int signal) {
    return syscall(SYS_tgkill, tgid, tid, signal) < 0 ? -errno : 0;
}

// One sock_diag request for unix socket inode `ino` showing `show`; the
// attribute `attribute` of the answer copied into `out`. 0 or -errno
// (-ENODATA: the socket is there but the answer lacks the attribute).
static int unix_diag_attribute(int netlink, uint32_t ino, uint32_t show, int attribute, void *out, size_t size) {
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } query = {
        .header = { .nlmsg_len = sizeof query, .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST },
        .request = { .sdiag_family = AF_UNIX, .udiag_states = ~0U, .udiag_ino = ino, .udiag_show = show,
                     .udiag_cookie = { ~0U, ~0U } },
    };
    if (send(netlink, &query, sizeof query, 0) < 0) return -errno;
    char answer[8192];
    ssize_t n = recv(netlink, answer, sizeof answer, 0);
    if (n < 0) return -errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *error = NLMSG_DATA(h);
            return error->error < 0 ? error->error : -ENOENT;
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
        struct unix_diag_msg *message = NLMSG_DATA(h);
        int left = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *message));
        for (struct rtattr *a = (struct rtattr *)(message + 1); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
            if (a->rta_type == attribute && RTA_PAYLOAD(a) >= size) {
                memcpy(out, RTA_DATA(a), size);
                return 0;
            }
        }
        return -ENODATA;
    }
    return -ENOENT;
}

// The file the peer of unix socket `sock` is bound to, as (st_dev, inode
// low 32 bits), asked of sock_diag in this thread's network namespace.
// 0, or -errno: -ENOTCONN without a peer, -ENOENT for a peer gone or bound to no file.
int moat_unix_peer_file(int sock, uint64_t *dev, uint32_t *ino) {
    struct stat info;
    if (fstat(sock, &info) < 0) return -errno;
    int netlink = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (netlink < 0) return -errno;
    uint32_t peer = 0;
    struct unix_diag_vfs vfs;
    // No peer attribute: not connected. A peer numbered 0 is one closed already.
    int rc = unix_diag_attribute(netlink, (uint32_t)info.st_ino, UDIAG_SHOW_PEER, UNIX_DIAG_PEER, &peer, sizeof peer);
    if (rc == -ENODATA) rc = -ENOTCONN;
    else if (rc == 0 && peer == 0) rc = -ENOENT;
    if (rc == 0) rc = unix_diag_attribute(netlink, peer, UDIAG_SHOW_VFS, UNIX_DIAG_VFS, &vfs, sizeof vfs);
    if (rc == -ENODATA) rc = -ENOENT;
    close(netlink);
    if (rc < 0) return rc;
    // sock_diag gives the kernel's own encoding (12-bit major above a 20-bit minor); stat's is glibc's.
    *dev = makedev(vfs.udiag_vfs_dev >> 20, vfs.udiag_vfs_dev & 0xfffff);
    *ino = vfs.udiag_vfs_ino;
    return 0;
}

pid_t moat_gettid(void) {
    return (pid_t)syscall(SYS_gettid);
}
