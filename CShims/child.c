// The child between clone and execve. Only raw system calls and stack
// buffers: the parent may have other threads, and glibc's wrappers for
// set*id, malloc and stdio are not safe here.
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <net/if.h>
#include <termios.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

__attribute__((noreturn)) static void fail(int fd, int stage, int err, int index) {
    struct moat_child_error report = { stage, err, index };
    syscall(SYS_write, fd, &report, sizeof report);
    syscall(SYS_exit_group, stage == MOAT_STAGE_EXEC ? (err == ENOENT ? 127 : 126) : 125);
    __builtin_unreachable();
}

static size_t length(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

// "/proc/self/fd/<fd>": the mount target for an fd opened inside the root.
static void fd_path(int fd, char out[32]) {
    static const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int n = 0;
    memcpy(out, prefix, sizeof prefix - 1);
    do { digits[n++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0);
    size_t at = sizeof prefix - 1;
    while (n > 0) out[at++] = digits[--n];
    out[at] = 0;
}

static int open_resolved(int rootfd, const char *path, int flags) {
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

// Opens path (O_PATH) inside the root, creating missing directories on the
// way and the last component as a file when make_file. Symlinks resolve
// inside the root, so a rootfs cannot point a mount outside itself.
static int open_in_root(int rootfd, const char *path, int make_file) {
    int fd = open_resolved(rootfd, path, O_PATH);
    if (fd != -ENOENT) return fd;
    char prefix[4096];
    size_t n = length(path);
    if (n >= sizeof prefix) return -ENAMETOOLONG;
    memcpy(prefix, path, n + 1);
    for (size_t end = 1; end <= n; end++) {
        if (end < n && prefix[end] != '/') continue;
        if (prefix[end - 1] == '/') continue;
        char saved = prefix[end];
        prefix[end] = 0;
        int probe = open_resolved(rootfd, prefix, O_PATH);
        if (probe >= 0) {
            syscall(SYS_close, probe);
        } else if (probe == -ENOENT) {
            size_t slash = end;
            while (slash > 0 && prefix[slash - 1] != '/') slash--;
            int parent;
            if (slash <= 1) {
                parent = rootfd;
            } else {
                prefix[slash - 1] = 0;
                parent = open_resolved(rootfd, prefix, O_PATH | O_DIRECTORY);
                prefix[slash - 1] = '/';
                if (parent < 0) return parent;
            }
            long made;
            if (end == n && make_file) {
                made = syscall(SYS_openat, parent, prefix + slash, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (made >= 0) syscall(SYS_close, made);
            } else {
                made = syscall(SYS_mkdirat, parent, prefix + slash, 0755);
            }
            int err = errno;
            if (parent != rootfd) syscall(SYS_close, parent);
            if (made < 0 && err != EEXIST) return -err;
        } else {
            return probe;
        }
        prefix[end] = saved;
    }
    return open_resolved(rootfd, path, O_PATH);
}

static int is_directory(const char *host_path) {
    struct stat st;
    if (syscall(SYS_newfstatat, AT_FDCWD, host_path, &st, 0) < 0) return 1;
    return S_ISDIR(st.st_mode);
}

static long mount_at(int rootfd, const char *target, const char *source, const char *fstype,
                     unsigned long flags, const void *data, int make_file) {
    int fd = open_in_root(rootfd, target, make_file);
    if (fd < 0) { errno = -fd; return -1; }
    char where[32];
    fd_path(fd, where);
    long rc = syscall(SYS_mount, source, where, fstype, flags, data);
    int err = errno;
    syscall(SYS_close, fd);
    errno = err;
    return rc;
}

// Changes the mount now at `target` (a bind remount's flags, a propagation
// type): it must name the new top mount, so the target is opened again.
static long change_mount_at(int rootfd, const char *target, unsigned long flags) {
    int fd = open_resolved(rootfd, target, O_PATH);
    if (fd < 0) { errno = -fd; return -1; }
    char where[32];
    fd_path(fd, where);
    long rc = syscall(SYS_mount, NULL, where, NULL, flags, NULL);
    int err = errno;
    syscall(SYS_close, fd);
    errno = err;
    return rc;
}

// Adds `extra` (MS_RDONLY, MS_NODEV ...) to the mount at `where`, keeping the
// flags it has: a bind remount sets them all, and would otherwise drop a
// nosuid or noexec the mount inherited (refused outright in a user namespace).
static long add_mount_flags(const char *where, unsigned long extra) {
    struct statfs info;
    if (syscall(SYS_statfs, where, &info) < 0) return -1;
    // statfs's ST_RDONLY, ST_NOSUID, ST_NODEV and ST_NOEXEC are the MS_ values; ST_NOSYMFOLLOW is not.
    unsigned long kept = (unsigned long)info.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (info.f_flags & 0x2000 /* ST_NOSYMFOLLOW */) kept |= MS_NOSYMFOLLOW;
    if ((kept | extra) == kept) return 0;
    return syscall(SYS_mount, NULL, where, NULL, MS_BIND | MS_REMOUNT | kept | extra, NULL);
}

static long add_mount_flags_at(int rootfd, const char *target, unsigned long extra) {
    int fd = open_resolved(rootfd, target, O_PATH);
    if (fd < 0) { errno = -fd; return -1; }
    char where[32];
    fd_path(fd, where);
    long rc = add_mount_flags(where, extra);
    int err = errno;
    syscall(SYS_close, fd);
    errno = err;
    return rc;
}

static void set_up_mount(const struct moat_mount *m, int i, int rootfd, int errfd, int nodev_files) {
    if (m->kind == MOAT_MOUNT_BIND) {
        int file = !is_directory(m->source);
        if (mount_at(rootfd, m->target, m->source, NULL, MS_BIND | (m->flags & MS_REC), NULL, file) < 0)
            fail(errfd, MOAT_STAGE_MOUNT, errno, i);
        if (m->remount && change_mount_at(rootfd, m->target, MS_BIND | MS_REMOUNT | m->remount) < 0)
            fail(errfd, MOAT_STAGE_MOUNT, errno, i);
        // A bound directory may hold device nodes of the host (see nodev_files).
        if (nodev_files && !file && add_mount_flags_at(rootfd, m->target, MS_NODEV) < 0)
            fail(errfd, MOAT_STAGE_MOUNT, errno, i);
    } else if (mount_at(rootfd, m->target, m->source, m->fstype, m->flags, m->data, 0) < 0) {
        // sysfs needs a network namespace owned by our user namespace; in
        // a user namespace without one, the host's /sys is bound instead (as runc).
        int err = errno;
        unsigned long kept = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        if (err != EPERM || !m->fstype || strcmp(m->fstype, "sysfs") != 0 ||
            mount_at(rootfd, m->target, "/sys", NULL, MS_BIND | MS_REC, NULL, 0) < 0 ||
            (kept && change_mount_at(rootfd, m->target, MS_BIND | MS_REMOUNT | kept) < 0))
            fail(errfd, MOAT_STAGE_MOUNT, err, i);
    }
}

static void set_up_mounts(const struct moat_spawn_config *c, int rootfd, int errfd) {
    for (int i = 0; i < c->nmounts; i++) {
        const struct moat_mount *m = &c->mounts[i];
        set_up_mount(m, i, rootfd, errfd, c->nodev_files);
        if (m->propagation && change_mount_at(rootfd, m->target, m->propagation) < 0)
            fail(errfd, MOAT_STAGE_MOUNT, errno, i);
    }
}

// Whether the default devices may be made with mknod, as runc makes them:
// /dev is the config's own tmpfs (so nothing lands in the bundle's rootfs)
// without nodev, and no user namespace forbids mknod. Otherwise the host's
// nodes are bound, which costs a mount each (made and, at exit, torn down).
static int joins(const struct moat_spawn_config *c, int type);

static int devices_by_mknod(const struct moat_spawn_config *c) {
    if (c->uid_map || joins(c, CLONE_NEWUSER)) return 0;
    int tmpfs = 0;
    for (int i = 0; i < c->nmounts; i++) {
        const struct moat_mount *m = &c->mounts[i];
        if (m->target && strcmp(m->target, "/dev") == 0)
            tmpfs = m->kind == MOAT_MOUNT_FS && m->fstype && strcmp(m->fstype, "tmpfs") == 0 && !(m->flags & MS_NODEV);
    }
    return tmpfs;
}

static void set_up_devices(const struct moat_spawn_config *c, int rootfd, int errfd) {
    static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
    static const unsigned numbers[][2] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 } };
    // /dev exists when it is a mount; otherwise the first bind makes it.
    int by_mknod = devices_by_mknod(c);
    int dev = by_mknod ? open_resolved(rootfd, "/dev", O_PATH | O_DIRECTORY) : -1;
    for (int i = 0; i < 6; i++) {
        if (dev >= 0 && syscall(SYS_mknodat, dev, nodes[i], S_IFCHR | 0666, makedev(numbers[i][0], numbers[i][1])) == 0) {
            // 0666 whatever the umask.
            if (syscall(SYS_fchmodat, dev, nodes[i], 0666) < 0) fail(errfd, MOAT_STAGE_DEVICES, errno, i);
            continue;
        }
        char host[32] = "/dev/", inside[32] = "/dev/";
        memcpy(host + 5, nodes[i], length(nodes[i]) + 1);
        memcpy(inside + 5, nodes[i], length(nodes[i]) + 1);
        if (mount_at(rootfd, inside, host, NULL, MS_BIND, NULL, 1) < 0)
            fail(errfd, MOAT_STAGE_DEVICES, errno, i);
    }
    if (dev < 0) dev = open_resolved(rootfd, "/dev", O_PATH | O_DIRECTORY);
    if (dev < 0) fail(errfd, MOAT_STAGE_DEVICES, -dev, -1);
    static const char *const links[][2] = {
        { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
        { "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" },
    };
    for (int i = 0; i < 5; i++)
        if (syscall(SYS_symlinkat, links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
            fail(errfd, MOAT_STAGE_DEVICES, errno, 6 + i);
    syscall(SYS_close, dev);
}

// linux.devices: each node made where the config puts it, as runc makes them.
static void make_devices(const struct moat_spawn_config *c, int rootfd, int errfd) {
    for (int i = 0; i < c->ndevices; i++) {
        const struct moat_device *d = &c->devices[i];
        size_t n = length(d->path), slash = n;
        while (slash > 0 && d->path[slash - 1] != '/') slash--;
        char parent_path[4096];
        if (slash == 0 || slash >= sizeof parent_path) fail(errfd, MOAT_STAGE_DEVICES, EINVAL, 100 + i);
        memcpy(parent_path, d->path, slash);
        parent_path[slash] = 0;
        // Its directory, made if missing (a file made there and removed again).
        int parent = open_resolved(rootfd, parent_path, O_PATH | O_DIRECTORY);
        if (parent == -ENOENT) {
            int made = open_in_root(rootfd, d->path, 1);   // makes the directories (the file goes below)
            if (made >= 0) syscall(SYS_close, made);
            parent = open_resolved(rootfd, parent_path, O_PATH | O_DIRECTORY);
        }
        if (parent < 0) fail(errfd, MOAT_STAGE_DEVICES, -parent, 100 + i);
        const char *name = d->path + slash;
        syscall(SYS_unlinkat, parent, name, 0);   // a node the image ships is replaced
        dev_t device = makedev(d->major, d->minor);
        if (syscall(SYS_mknodat, parent, name, d->mode, device) < 0) {
            // No mknod in a user namespace: bind the host's node of that number.
            int err = errno;
            char host[64];
            snprintf(host, sizeof host, "/dev/%s/%u:%u", S_ISBLK(d->mode) ? "block" : "char", d->major, d->minor);
            if (!S_ISCHR(d->mode) && !S_ISBLK(d->mode)) fail(errfd, MOAT_STAGE_DEVICES, err, 100 + i);
            if (mount_at(rootfd, d->path, host, NULL, MS_BIND, NULL, 1) < 0) fail(errfd, MOAT_STAGE_DEVICES, err, 100 + i);
        } else {
            if (syscall(SYS_fchownat, parent, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
                fail(errfd, MOAT_STAGE_DEVICES, errno, 100 + i);
            if (syscall(SYS_fchmodat, parent, name, d->mode & 07777) < 0) fail(errfd, MOAT_STAGE_DEVICES, errno, 100 + i);
        }
        syscall(SYS_close, parent);
    }
}

static void mask_paths(const struct moat_spawn_config *c, int rootfd, int errfd) {
    for (int i = 0; i < c->nmasked; i++) {
        int fd = open_resolved(rootfd, c->masked_paths[i], O_PATH);
        if (fd == -ENOENT) continue;
        if (fd < 0) fail(errfd, MOAT_STAGE_MASK, -fd, i);
        struct stat st;
        char where[32];
        fd_path(fd, where);
        long rc = syscall(SYS_fstat, fd, &st);
        if (rc == 0 && S_ISDIR(st.st_mode))
            rc = syscall(SYS_mount, "tmpfs", where, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
        else if (rc == 0)
            rc = syscall(SYS_mount, "/dev/null", where, NULL, MS_BIND, NULL);
        if (rc < 0) fail(errfd, MOAT_STAGE_MASK, errno, i);
        syscall(SYS_close, fd);
    }
    for (int i = 0; i < c->nreadonly; i++) {
        int fd = open_resolved(rootfd, c->readonly_paths[i], O_PATH);
        if (fd == -ENOENT) continue;
        if (fd < 0) fail(errfd, MOAT_STAGE_MASK, -fd, c->nmasked + i);
        char where[32];
        fd_path(fd, where);
        if (syscall(SYS_mount, where, where, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail(errfd, MOAT_STAGE_MASK, errno, c->nmasked + i);
        syscall(SYS_close, fd);
        if (change_mount_at(rootfd, c->readonly_paths[i], MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV) < 0)
            fail(errfd, MOAT_STAGE_MASK, errno, c->nmasked + i);
    }
}

// Stacks an overlay on the rootfs (in this private namespace only): the
// bundle is its lower layer and is never written; changes go to
// overlay_dir/upper (a tmpfs there in memory mode).
static void mount_overlay(const struct moat_spawn_config *c, int errfd) {
    char options[3 * PATH_MAX + 64];
    // overlayfs splits its options at ',' and lowerdir at ':'.
    if (strpbrk(c->rootfs, ",:") || strpbrk(c->overlay_dir, ",:")) fail(errfd, MOAT_STAGE_OVERLAY, EINVAL, -1);
    if (c->overlay_in_memory &&
        syscall(SYS_mount, "tmpfs", c->overlay_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
        fail(errfd, MOAT_STAGE_OVERLAY, errno, -1);
    long dir = syscall(SYS_openat, AT_FDCWD, c->overlay_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) fail(errfd, MOAT_STAGE_OVERLAY, errno, -1);
    if ((syscall(SYS_mkdirat, dir, "upper", 0755) < 0 && errno != EEXIST) ||
        (syscall(SYS_mkdirat, dir, "work", 0700) < 0 && errno != EEXIST))
        fail(errfd, MOAT_STAGE_OVERLAY, errno, -1);
    syscall(SYS_close, dir);
    int n = snprintf(options, sizeof options, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work",
                     c->rootfs, c->overlay_dir, c->overlay_dir);
    if (n < 0 || (size_t)n >= sizeof options) fail(errfd, MOAT_STAGE_OVERLAY, ENAMETOOLONG, -1);
    if (syscall(SYS_mount, "overlay", c->rootfs, "overlay", 0, options) < 0)
        fail(errfd, MOAT_STAGE_OVERLAY, errno, -1);
}

static void enter_root(const struct moat_spawn_config *c, int errfd, int releasefd) {
    // pivot_root refuses a shared parent and the root's own bind fails on an
    // unbindable one: those are made so after pivot_root.
    unsigned long root = c->root_propagation ? c->root_propagation : MS_REC | MS_SLAVE;
    unsigned long first = root & (MS_SHARED | MS_UNBINDABLE) ? MS_REC | MS_SLAVE : root;
    if (syscall(SYS_mount, NULL, "/", NULL, first, NULL) < 0)
        fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    if (c->overlay_dir) mount_overlay(c, errfd);
    if (syscall(SYS_mount, c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    long rootfd = syscall(SYS_openat, AT_FDCWD, c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    set_up_mounts(c, (int)rootfd, errfd);
    if (c->default_devices) set_up_devices(c, (int)rootfd, errfd);
    make_devices(c, (int)rootfd, errfd);
    mask_paths(c, (int)rootfd, errfd);
    // createContainer hooks run here, in our namespaces before pivot_root.
    if (c->pause_before_pivot) {
        struct moat_child_error mounted = { 0, 0, 1 };
        char byte;
        syscall(SYS_write, errfd, &mounted, sizeof mounted);
        if (syscall(SYS_read, releasefd, &byte, 1) != 1) fail(errfd, MOAT_STAGE_SYNC, errno, -1);
    }
    if (syscall(SYS_fchdir, rootfd) < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    syscall(SYS_close, rootfd);
    if (c->no_pivot) {
        // As runc --no-pivot, for roots pivot_root refuses (initramfs): the
        // root is moved over "/" and chrooted into. The host's mounts stay
        // underneath, out of reach: the sandbox cannot chroot, mount or
        // unmount, and holds no fd from outside.
        if (syscall(SYS_mount, ".", "/", NULL, MS_MOVE, NULL) < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
        if (syscall(SYS_chroot, ".") < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    } else {
        // pivot_root(".", ".") stacks the old root under the new one; detaching
        // "." then drops every host mount from this namespace.
        if (syscall(SYS_pivot_root, ".", ".") < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
        if (syscall(SYS_umount2, ".", MNT_DETACH) < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    }
    if (syscall(SYS_chdir, "/") < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    if (root != first && syscall(SYS_mount, NULL, "/", NULL, root, NULL) < 0)
        fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    unsigned long root_flags = (c->readonly_root ? MS_RDONLY : 0) | (c->nodev_files ? MS_NODEV : 0);
    if (root_flags && add_mount_flags("/", root_flags) < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
}

static void reset_signals(void) {
    uint64_t empty = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof empty);
    struct kernel_sigaction dfl = { 0 };
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
    }
}

static void set_capabilities(uint64_t effective, uint64_t permitted, uint64_t inheritable, int errfd) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { (uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable },
        { (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32) },
    };
    if (syscall(SYS_capset, &header, data) < 0) fail(errfd, MOAT_STAGE_CAPS, errno, -1);
}

static void set_identity(const struct moat_spawn_config *c, int errfd) {
    for (int cap = 0; cap <= c->cap_last; cap++)
        if (!(c->cap_bounding & (1ULL << cap)) && syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            fail(errfd, MOAT_STAGE_CAPS, errno, cap);
    if (syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(errfd, MOAT_STAGE_CAPS, errno, -1);
    // With setgroups denied (a user namespace made without privilege) only an empty list can stand.
    if (!(c->deny_setgroups && c->ngroups == 0) && syscall(SYS_setgroups, c->ngroups, c->groups) < 0)
        fail(errfd, MOAT_STAGE_USER, errno, -1);
    if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0) fail(errfd, MOAT_STAGE_USER, errno, -1);
    if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0) fail(errfd, MOAT_STAGE_USER, errno, -1);
    // Without no_new_privs the kernel lets only CAP_SYS_ADMIN load a seccomp
    // filter: keep it until the filters are in (drop_filter_capability).
    uint64_t extra = c->keep_new_privs ? 1ULL << CAP_SYS_ADMIN : 0;
    set_capabilities(c->cap_effective | extra, c->cap_permitted | extra, c->cap_inheritable, errfd);
    for (int cap = 0; cap <= c->cap_last; cap++)
        if ((c->cap_ambient & (1ULL << cap)) &&
            syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            fail(errfd, MOAT_STAGE_CAPS, errno, cap);
    syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

// process.terminal with a console socket: a pty of the sandbox's own devpts,
// its master sent to the socket (SCM_RIGHTS, as runc does), its slave the
// workload's stdio and controlling terminal.
static void set_up_terminal(const struct moat_spawn_config *c, int console, int errfd) {
    long master = syscall(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 0);
    int unlock = 0, number = -1;
    if (syscall(SYS_ioctl, master, TIOCSPTLCK, &unlock) < 0 || syscall(SYS_ioctl, master, TIOCGPTN, &number) < 0)
        fail(errfd, MOAT_STAGE_TERMINAL, errno, 1);
    char path[32] = "/dev/pts/";
    char digits[12];
    int n = 0, at = 9;
    do { digits[n++] = (char)('0' + number % 10); number /= 10; } while (number > 0);
    while (n > 0) path[at++] = digits[--n];
    path[at] = 0;
    long slave = syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_NOCTTY);
    if (slave < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 2);
    if (c->console_rows && c->console_columns) {
        struct winsize size = { c->console_rows, c->console_columns, 0, 0 };
        syscall(SYS_ioctl, slave, TIOCSWINSZ, &size);
    }
    int fd = (int)master;
    long sent = moat_send_with_fds(console, path, (size_t)at, &fd, 1);
    if (sent < 0) fail(errfd, MOAT_STAGE_TERMINAL, (int)-sent, 3);
    syscall(SYS_close, master);
    syscall(SYS_close, console);
    for (int i = 0; i < 3; i++)
        if (syscall(SYS_dup2, slave, i) < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 4);
    if (slave > 2) syscall(SYS_close, slave);
    if (syscall(SYS_ioctl, 0, TIOCSCTTY, 0) < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 5);
}

// Connects to the console socket while the host's paths are still reachable.
static int connect_console(const char *path, int errfd) {
    long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 6);
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t n = length(path);
    long dir = -1;
    if (n >= sizeof address.sun_path) {
        // Too long for sun_path: name it through its directory, /proc/self/fd/<dir>/<name>.
        size_t slash = n;
        while (slash > 0 && path[slash - 1] != '/') slash--;
        char parent[4096];
        if (slash <= 1 || slash >= sizeof parent) fail(errfd, MOAT_STAGE_TERMINAL, ENAMETOOLONG, 6);
        memcpy(parent, path, slash - 1);
        parent[slash - 1] = 0;
        dir = syscall(SYS_openat, AT_FDCWD, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 6);
        int len = snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%ld/%s", dir, path + slash);
        if (len < 0 || (size_t)len >= sizeof address.sun_path) fail(errfd, MOAT_STAGE_TERMINAL, ENAMETOOLONG, 6);
    } else {
        memcpy(address.sun_path, path, n);
    }
    if (syscall(SYS_connect, fd, &address, sizeof address) < 0) fail(errfd, MOAT_STAGE_TERMINAL, errno, 6);
    if (dir >= 0) syscall(SYS_close, dir);
    return (int)fd;
}

// Closes every fd from `from` up but a, b and c.
static void close_all_but(unsigned from, int a, int b, int c) {
    int keep[3] = { a, b, c };
    // Sort the three (some may be -1) and close the gaps between them.
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (keep[j] < keep[i]) { int t = keep[i]; keep[i] = keep[j]; keep[j] = t; }
    for (int i = 0; i < 3; i++) {
        if (keep[i] < (int)from) continue;
        if ((unsigned)keep[i] > from) syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
        from = (unsigned)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

// Hands the seccomp listener to the supervisor over the socket (SCM_RIGHTS).
static void send_listener(int sock, int listener, int errfd) {
    long sent = moat_send_with_fds(sock, "", 1, &listener, 1);
    if (sent != 1) fail(errfd, MOAT_STAGE_SECCOMP, sent < 0 ? (int)-sent : EPIPE, -1);
    syscall(SYS_close, listener);
    syscall(SYS_close, sock);
}

static void finish_and_exec(const struct moat_spawn_config *c, int errfd, int releasefd, int listener_sock)
    __attribute__((noreturn));

// A new network namespace starts with its loopback down: bring it up, as
// container engines do, so that the sandbox can talk to itself.
static void bring_loopback_up(int errfd) {
    long sock = syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -2);
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, "lo", 3);
    if (syscall(SYS_ioctl, sock, SIOCGIFFLAGS, &request) < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -2);
    request.ifr_flags |= IFF_UP;
    if (syscall(SYS_ioctl, sock, SIOCSIFFLAGS, &request) < 0) fail(errfd, MOAT_STAGE_PIVOT, errno, -2);
    syscall(SYS_close, sock);
}

// Whether the config joins a namespace of this CLONE_NEW* type by path.
static int joins(const struct moat_spawn_config *c, int type) {
    for (int i = 0; i < c->njoin; i++)
        if (c->join_types[i] == type) return 1;
    return 0;
}

// Enters every namespace the config joins: all are opened first (a joined
// mount namespace moves our root, and later paths would resolve in it),
// then entered in order, the user namespace last (after it, namespaces the
// host's user namespace owns are out of reach). 0, or -errno with *failed
// set to the entry's index.
static int enter_namespaces(const struct moat_spawn_config *c, int *failed) {
    int fds[16];
    if (c->njoin > 16) { *failed = 16; return -E2BIG; }
    int result = 0;
    for (int i = 0; i < c->njoin; i++) {
        fds[i] = (int)syscall(SYS_openat, AT_FDCWD, c->join_paths[i], O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0 && result == 0) { result = -errno; *failed = i; }
    }
    for (int last = 0; last < 2 && result == 0; last++) {
        for (int i = 0; i < c->njoin && result == 0; i++) {
            if ((c->join_types[i] == CLONE_NEWUSER) != last) continue;
            if (syscall(SYS_setns, fds[i], c->join_types[i]) < 0) { result = -errno; *failed = i; }
        }
    }
    for (int i = 0; i < c->njoin; i++) if (fds[i] >= 0) syscall(SYS_close, fds[i]);
    return result;
}

static void child(const struct moat_spawn_config *c, int errfd, int releasefd, int listener_sock, int mappedfd) {
    // If the supervisor dies before it has seized us, do not live on.
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    reset_signals();
    // In a new user namespace: wait until the supervisor has written our id
    // maps, so that the namespaces made next belong to it with us as root.
    // A joined one (entered by the intermediate process) has its maps already.
    if (mappedfd >= 0) {
        char byte;
        if (syscall(SYS_read, mappedfd, &byte, 1) != 1) fail(errfd, MOAT_STAGE_USER, EPERM, -1);
        syscall(SYS_close, mappedfd);
    }
    int joined_by_middle = joins(c, CLONE_NEWPID) || joins(c, CLONE_NEWUSER);
    if (mappedfd >= 0 || joins(c, CLONE_NEWUSER)) {
        // Become the namespace's root (when the maps give one): the
        // supervisor's own ids may be unmapped inside, and files the child
        // makes (devpts's ptmx, mount points) would then have no owner
        // (EOVERFLOW). Rootless maps already make us 0 inside.
        syscall(SYS_setresgid, 0, 0, 0);
        syscall(SYS_setresuid, 0, 0, 0);
    }
    // Namespaces the config names by path are joined first (an engine's
    // network namespace, a pod's; their types are not in clone_flags),
    // unless the intermediate process that cloned us entered them.
    int failed = -1;
    if (!joined_by_middle) {
        int entered = enter_namespaces(c, &failed);
        if (entered < 0) fail(errfd, MOAT_STAGE_NAMESPACE, -entered, failed);
    }
    // Only the pid namespace had to be made by clone; the others are made
    // here, while the supervisor seizes us in parallel.
    if (syscall(SYS_unshare, c->clone_flags & ~(unsigned long)CLONE_NEWPID) < 0)
        fail(errfd, MOAT_STAGE_PIVOT, errno, -1);
    if (c->clone_flags & CLONE_NEWNET) bring_loopback_up(errfd);

    // As runc: while still root with every capability (lowering it needs CAP_SYS_RESOURCE).
    if (c->oom_score_adj) {
        long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0) fail(errfd, MOAT_STAGE_OOM_SCORE, errno, -1);
        long n = syscall(SYS_write, fd, c->oom_score_adj, length(c->oom_score_adj));
        int err = errno;
        syscall(SYS_close, fd);
        if (n < 0) fail(errfd, MOAT_STAGE_OOM_SCORE, err, -1);
    }

    // Before pivot_root the host's /proc is still at /proc, and /proc/sys
    // answers for the writer's own (new) network and IPC namespaces.
    for (int i = 0; i < c->nsysctls; i++) {
        long fd = syscall(SYS_openat, AT_FDCWD, c->sysctl_paths[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0) fail(errfd, MOAT_STAGE_SYSCTL, errno, i);
        long n = syscall(SYS_write, fd, c->sysctl_values[i], length(c->sysctl_values[i]));
        int err = errno;
        syscall(SYS_close, fd);
        if (n < 0) fail(errfd, MOAT_STAGE_SYSCTL, err, i);
    }

    // A session of its own, as runc gives a container: the init is its own
    // session and process-group leader (sid = pgid = 1 inside). A terminal
    // without a console socket is the caller's own: stay in its session so
    // that it remains the workload's controlling terminal.
    int console = -1;
    if (!c->terminal || c->console_socket) syscall(SYS_setsid);
    if (c->terminal && c->console_socket) console = connect_console(c->console_socket, errfd);
    // The hostname before the mounts: createContainer hooks already see it.
    if (c->hostname && syscall(SYS_sethostname, c->hostname, length(c->hostname)) < 0)
        fail(errfd, MOAT_STAGE_HOSTNAME, errno, -1);
    enter_root(c, errfd, releasefd);
    if (console >= 0) set_up_terminal(c, console, errfd);
    finish_and_exec(c, errfd, releasefd, listener_sock);
}

// Reads exactly `length` bytes from a pipe, or fails the child.
static void read_exactly(int fd, void *buffer, size_t length, int errfd) {
    for (size_t got = 0; got < length;) {
        long n = syscall(SYS_read, fd, (char *)buffer + got, length - got);
        if (n <= 0) fail(errfd, MOAT_STAGE_SYNC, n < 0 ? errno : EPIPE, -1);
        got += (size_t)n;
    }
}

// With filter_at_release: the supervisor builds the filter while the child
// sets itself up and sends it with the release (moat_release_with_filter):
// its instruction count, then the instructions. This process's own copy of
// the buffer (the child does not share memory with the supervisor).
static struct sock_filter released_filter[BPF_MAXINSNS];

static struct sock_fprog receive_filter(int releasefd, int errfd) {
    uint32_t count = 0;
    read_exactly(releasefd, &count, sizeof count, errfd);
    if (count == 0 || count > BPF_MAXINSNS) fail(errfd, MOAT_STAGE_SECCOMP, EINVAL, -1);
    read_exactly(releasefd, released_filter, count * sizeof released_filter[0], errfd);
    return (struct sock_fprog){ (unsigned short)count, released_filter };
}

int moat_release_with_filter(int release_fd, const void *filter, size_t count) {
    if (count == 0 || count > BPF_MAXINSNS) return -EINVAL;
    uint32_t header = (uint32_t)count;
    const char byte = 1;
    struct iovec parts[3] = {
        { &header, sizeof header }, { (void *)filter, count * sizeof(struct sock_filter) }, { (void *)&byte, 1 }
    };
    size_t total = parts[0].iov_len + parts[1].iov_len + 1, sent = 0;
    while (sent < total) {
        ssize_t n = writev(release_fd, parts, 3);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        sent += (size_t)n;
        // A partial write (more than the pipe took at once): skip what went.
        for (int i = 0; i < 3; i++) {
            size_t step = (size_t)n < parts[i].iov_len ? (size_t)n : parts[i].iov_len;
            parts[i].iov_base = (char *)parts[i].iov_base + step;
            parts[i].iov_len -= step;
            n -= (ssize_t)step;
        }
    }
    return 0;
}

// The part every workload process shares, new sandbox or joined one: limits,
// credentials, cwd, fds, the ready report and release, then filters and execve.
static void finish_and_exec(const struct moat_spawn_config *c, int errfd, int releasefd, int listener_sock) {
    for (int i = 0; i < c->nrlimits; i++) {
        struct { uint64_t cur, max; } limit = { c->rlimits[i].soft, c->rlimits[i].hard };
        if (syscall(SYS_prlimit64, 0, c->rlimits[i].resource, &limit, NULL) < 0)
            fail(errfd, MOAT_STAGE_RLIMIT, errno, i);
    }
    set_identity(c, errfd);
    if (c->umask_value >= 0) syscall(SYS_umask, c->umask_value);
    if (syscall(SYS_chdir, c->cwd) < 0) fail(errfd, MOAT_STAGE_CWD, errno, -1);

    // Only stdio (and fds preserved on request) survives into the workload.
    // Until exec the child still needs its pipes and the listener socket;
    // any other fd is closed now, so that a workload waiting for `start`
    // holds nothing of its creator's.
    unsigned first_closed = 3 + (unsigned)(c->preserve_fds > 0 ? c->preserve_fds : 0);
    for (unsigned fd = 3; fd < first_closed; fd++)
        if (syscall(SYS_fcntl, fd, F_SETFD, 0) < 0) fail(errfd, MOAT_STAGE_SYNC, errno, (int)fd);
    close_all_but(first_closed, errfd, releasefd, listener_sock);
    syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC);
    // Set up: say so (a record with stage 0), then wait until the supervisor
    // has seized us and wants the workload to start.
    struct moat_child_error ready = { 0, 0, -1 };
    syscall(SYS_write, errfd, &ready, sizeof ready);
    struct sock_fprog program = { (unsigned short)c->filter_len, (struct sock_filter *)c->filter };
    if (c->filter_at_release) program = receive_filter(releasefd, errfd);
    char byte;
    if (syscall(SYS_read, releasefd, &byte, 1) != 1) fail(errfd, MOAT_STAGE_SYNC, errno, -1);
    syscall(SYS_close, releasefd);
    if (!c->keep_new_privs && syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(errfd, MOAT_STAGE_SECCOMP, errno, -1);
    long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                            c->want_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &program);
    if (listener < 0) fail(errfd, MOAT_STAGE_SECCOMP, errno, -1);
    if (c->want_listener) send_listener(listener_sock, (int)listener, errfd);
    // The config's own profile comes last and can only take away: the kernel
    // runs every filter and the strictest action wins.
    if (c->extra_filter) {
        struct sock_fprog extra = { (unsigned short)c->extra_filter_len, (struct sock_filter *)c->extra_filter };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &extra) < 0) fail(errfd, MOAT_STAGE_SECCOMP, errno, 1);
    }

    // The capabilities exactly as configured, now that the filters are in
    // (capset reaches the sentry, which lets it run).
    if (c->keep_new_privs) set_capabilities(c->cap_effective, c->cap_permitted, c->cap_inheritable, errfd);

    // The counter would show the host's uptime: make rdtsc fault, for the sentry to answer.
    if (c->trap_tsc && syscall(SYS_prctl, PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0)
        fail(errfd, MOAT_STAGE_SECCOMP, errno, 2);
    int err = ENOENT, index = 0;
    for (int i = 0; i < c->nexec_paths; i++) {
        syscall(SYS_execve, c->exec_paths[i], c->argv, c->envp);
        // Like a shell: keep looking past ENOENT, remember the first other error.
        if (errno != ENOENT && err == ENOENT) { err = errno; index = i; }
    }
    fail(errfd, MOAT_STAGE_EXEC, err, index);
}

// Writes /proc/<pid>/{setgroups,uid_map,gid_map}: 0 or -errno.
static int write_id_maps(pid_t pid, const struct moat_spawn_config *c) {
    const char *files[3] = { "setgroups", "uid_map", "gid_map" };
    const char *texts[3] = { c->deny_setgroups ? "deny" : NULL, c->uid_map, c->gid_map };
    for (int i = 0; i < 3; i++) {
        if (!texts[i]) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", pid, files[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) return -errno;
        ssize_t n = write(fd, texts[i], strlen(texts[i]));
        int err = errno;
        close(fd);
        if (n < 0) return -err;
    }
    return 0;
}

// A joined pid namespace only holds the children of whoever entered it, and
// namespaces made after entering a user namespace belong to it: an
// intermediate process enters every namespace the config joins (the user
// namespace last: after it, the host's would be out of reach), then clones
// the child with CLONE_PARENT, so that the child is still ours (traced,
// waited for, killed with us) and makes its new namespaces inside. Returns
// the child's pid in the child (0), its host pid here, or -1 with errno.
static long clone_into_namespaces(const struct moat_spawn_config *c, unsigned long flags) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -1;
    long middle = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (middle == 0) {
        syscall(SYS_close, report[0]);
        int failed = -1;
        int64_t result = enter_namespaces(c, &failed);
        if (result == 0) {
            long pid = syscall(SYS_clone, flags | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
            if (pid == 0) {
                syscall(SYS_close, report[1]);
                return 0;
            }
            result = pid < 0 ? -errno : pid;
        }
        syscall(SYS_write, report[1], &result, sizeof result);
        syscall(SYS_exit_group, 0);
    }
    int err = errno;
    close(report[1]);
    int64_t result = -err;
    if (middle > 0) {
        if (read(report[0], &result, sizeof result) != (ssize_t)sizeof result) result = -ECHILD;
        waitpid((pid_t)middle, NULL, 0);
    }
    close(report[0]);
    if (result < 0) {
        errno = (int)-result;
        return -1;
    }
    return (long)result;
}

int moat_spawn(const struct moat_spawn_config *config, struct moat_spawned *out) {
    int errpipe[2], releasepipe[2], sockets[2] = { -1, -1 }, mapped[2] = { -1, -1 };
    if (config->uid_map && pipe2(mapped, O_CLOEXEC) < 0) return -errno;
    if (pipe2(errpipe, O_CLOEXEC) < 0) return -errno;
    if (pipe2(releasepipe, O_CLOEXEC) < 0) {
        int err = errno;
        close(errpipe[0]); close(errpipe[1]);
        return -err;
    }
    if (config->want_listener && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0) {
        int err = errno;
        close(errpipe[0]); close(errpipe[1]); close(releasepipe[0]); close(releasepipe[1]);
        return -err;
    }
    // The pid namespace (and a user namespace) must come from clone; the others are unshared by the child.
    unsigned long flags = (config->clone_flags & CLONE_NEWPID) | (config->uid_map ? CLONE_NEWUSER : 0);
    if (joins(config, CLONE_NEWPID)) flags &= ~(unsigned long)CLONE_NEWPID;
    long pid = joins(config, CLONE_NEWPID) || joins(config, CLONE_NEWUSER) ? clone_into_namespaces(config, flags)
                                                                          : syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        syscall(SYS_close, errpipe[0]);
        syscall(SYS_close, releasepipe[1]);
        if (sockets[0] >= 0) syscall(SYS_close, sockets[0]);
        if (mapped[1] >= 0) syscall(SYS_close, mapped[1]);
        child(config, errpipe[1], releasepipe[0], sockets[1], mapped[0]);
    }
    int err = errno;
    close(errpipe[1]);
    close(releasepipe[0]);
    if (sockets[1] >= 0) close(sockets[1]);
    if (mapped[0] >= 0) close(mapped[0]);
    if (pid > 0 && config->uid_map) {
        int written = write_id_maps((pid_t)pid, config);
        if (written < 0 || write(mapped[1], "", 1) != 1) {
            err = written < 0 ? -written : errno;
            kill((pid_t)pid, SIGKILL);
            waitpid((pid_t)pid, NULL, __WALL);
            pid = -1;
        }
    }
    if (mapped[1] >= 0) close(mapped[1]);
    if (pid < 0) {
        close(errpipe[0]); close(releasepipe[1]);
        if (sockets[0] >= 0) close(sockets[0]);
        return -err;
    }
    out->pid = (pid_t)pid;
    out->error_fd = errpipe[0];
    out->release_fd = releasepipe[1];
    out->listener_socket = sockets[0];
    return 0;
}

// A process that joins a running sandbox (`moat exec`): an intermediate child
// enters the init's namespaces (the mount namespace last: it also moves root
// and cwd into the sandbox), then clones the real child with CLONE_PARENT so
// that it is the supervisor's child, inside the sandbox's pid namespace.
static void joined_child(const struct moat_spawn_config *c, int errfd, int releasefd, const int fds[4], int listener_sock) {
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    reset_signals();
    syscall(SYS_setsid);
    for (int i = 0; i < 3; i++)
        if (syscall(SYS_dup2, fds[i], i) < 0) fail(errfd, MOAT_STAGE_SYNC, errno, i);
    // A terminal for `exec -t`: the pty comes from the sandbox's devpts (we
    // are in its mount namespace now), its master goes to the console socket.
    if (c->terminal && fds[3] >= 0) set_up_terminal(c, fds[3], errfd);
    finish_and_exec(c, errfd, releasefd, listener_sock);
}

// Opens the namespaces of `init` that a joining process enters, in the
// order it enters them: its user namespace first when it has one of its own
// (rootless), mnt last (it also moves root and cwd). ns[0] is -1 when the
// user namespace is ours already. 0 or -errno.
static int open_namespaces(pid_t init, int procfd, int ns[7]) {
    static const char *const names[] = { "user", "ipc", "uts", "net", "cgroup", "pid", "mnt" };
    for (int i = 0; i < 7; i++) {
        char path[64];
        int n = procfd >= 0 ? snprintf(path, sizeof path, "%d/ns/%s", init, names[i])
                            : snprintf(path, sizeof path, "/proc/%d/ns/%s", init, names[i]);
        if (n <= 0) return -EINVAL;
        ns[i] = openat(procfd >= 0 ? procfd : AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        if (ns[i] < 0) {
            int err = errno;
            for (int j = 0; j < i; j++) if (ns[j] >= 0) close(ns[j]);
            return -err;
        }
    }
    // Namespaces the sandbox shares with us are not entered (without root
    // that would need privilege over the host's own).
    for (int i = 0; i < 7; i++) {
        char self[64];
        snprintf(self, sizeof self, procfd >= 0 ? "self/ns/%s" : "/proc/self/ns/%s", names[i]);
        struct stat theirs, ours;
        if (fstat(ns[i], &theirs) == 0 && fstatat(procfd >= 0 ? procfd : AT_FDCWD, self, &ours, 0) == 0 &&
            theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev) {
            close(ns[i]);
            ns[i] = -1;
        }
    }
    return 0;
}

int moat_spawn_joined(const struct moat_spawn_config *config, pid_t init, int procfd, const int fds[4],
                      struct moat_spawned *out) {
    int ns[7];
    int opened = open_namespaces(init, procfd, ns);
    if (opened < 0) return opened;
    int errpipe[2], releasepipe[2], pidpipe[2], sockets[2] = { -1, -1 };
    if (pipe2(errpipe, O_CLOEXEC) < 0) return -errno;
    if (pipe2(releasepipe, O_CLOEXEC) < 0 || pipe2(pidpipe, O_CLOEXEC) < 0) return -errno;
    if (config->want_listener && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0) return -errno;
    long middle = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (middle == 0) {
        for (int i = 0; i < 7; i++)
            if (ns[i] >= 0 && syscall(SYS_setns, ns[i], 0) < 0) fail(errpipe[1], MOAT_STAGE_PIVOT, errno, i);
        long pid = syscall(SYS_clone, CLONE_PARENT, 0, 0, 0, 0);
        if (pid == 0) {
            syscall(SYS_close, errpipe[0]);
            syscall(SYS_close, releasepipe[1]);
            syscall(SYS_close, pidpipe[0]);
            syscall(SYS_close, pidpipe[1]);
            if (sockets[0] >= 0) syscall(SYS_close, sockets[0]);
            joined_child(config, errpipe[1], releasepipe[0], fds, sockets[1]);
        }
        int32_t reported = (int32_t)(pid < 0 ? -errno : pid);
        syscall(SYS_write, pidpipe[1], &reported, sizeof reported);
        syscall(SYS_exit_group, 0);
    }
    int err = errno;
    for (int i = 0; i < 7; i++) if (ns[i] >= 0) close(ns[i]);
    close(errpipe[1]);
    close(releasepipe[0]);
    close(pidpipe[1]);
    int32_t pid = -ECHILD;
    if (middle > 0) {
        if (read(pidpipe[0], &pid, sizeof pid) != sizeof pid) pid = -ECHILD;
        waitpid((pid_t)middle, NULL, 0);
    } else {
        pid = -err;
    }
    close(pidpipe[0]);
    if (sockets[1] >= 0) close(sockets[1]);
    if (pid < 0) {
        // The intermediate child failed to enter a namespace: say why.
        struct moat_child_error report;
        if (read(errpipe[0], &report, sizeof report) == (ssize_t)sizeof report && report.err > 0) pid = -report.err;
        close(errpipe[0]);
        close(releasepipe[1]);
        if (sockets[0] >= 0) close(sockets[0]);
        return pid;
    }
    out->pid = pid;
    out->error_fd = errpipe[0];
    out->release_fd = releasepipe[1];
    out->listener_socket = sockets[0];
    return 0;
}

// A detached supervisor shows the sandbox's /proc at its own /proc, in a
// mount namespace of its own (a slave of the host's, so later host mounts
// still reach it). Engines that list a container's processes by joining the
// mount namespace of the pid they were given (podman top, through psgo) then
// see the container's processes. A mount can only be cloned from the
// cloner's own namespace: a short-lived helper enters the sandbox's mount
// namespace, clones its /proc (open_tree) and sends the detached copy back.
// Returns an O_PATH descriptor of the host's /proc, which the supervisor
// keeps using, or -errno.
int moat_show_sandbox_proc(pid_t init) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", init);
    int sandbox_ns = open(path, O_RDONLY | O_CLOEXEC);
    if (sandbox_ns < 0) return -errno;
    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0) {
        int err = errno;
        close(sandbox_ns);
        return -err;
    }
    long helper = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (helper == 0) {
        int err = 0;
        long tree = -1;
        if (syscall(SYS_setns, sandbox_ns, CLONE_NEWNS) < 0) err = errno;
        else if ((tree = syscall(SYS_open_tree, AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) err = errno;
        int fd = (int)tree;
        if (!err && moat_send_with_fds(sockets[1], "t", 1, &fd, 1) < 0) err = errno;
        syscall(SYS_exit_group, err);
    }
    int err = helper < 0 ? errno : 0;
    close(sandbox_ns);
    close(sockets[1]);
    int fds[MOAT_MAX_PASSED_FDS];
    char byte;
    if (!err && moat_receive_with_fds(sockets[0], &byte, 1, fds) != 1) err = EPROTO;
    close(sockets[0]);
    if (helper > 0) {
        int status = 0;
        while (waitpid((pid_t)helper, &status, __WALL) < 0 && errno == EINTR) {}
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0) err = WEXITSTATUS(status);
    }
    if (err) return -err;
    int tree = fds[0];
    int hostproc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (hostproc < 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
        syscall(SYS_move_mount, tree, "", AT_FDCWD, "/proc", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        err = errno;
        close(tree);
        if (hostproc >= 0) close(hostproc);
        return -err;
    }
    close(tree);
    return hostproc;
}

pid_t moat_run_in_namespaces(pid_t init, int procfd, const char *path, char *const argv[], char *const envp[],
                             int stdin_fd) {
    int ns[7];
    int opened = open_namespaces(init, procfd, ns);
    if (opened < 0) return opened;
    long middle = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (middle == 0) {
        for (int i = 0; i < 7; i++)
            if (ns[i] >= 0 && syscall(SYS_setns, ns[i], 0) < 0) syscall(SYS_exit_group, 126);
        // Nothing of the supervisor's but stdin stays open (the hook must
        // see end-of-file on it).
        if (syscall(SYS_dup2, stdin_fd, 0) < 0) syscall(SYS_exit_group, 126);
        syscall(SYS_close_range, 3, ~0U, 0);
        long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) {
            syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            reset_signals();
            syscall(SYS_execve, path, argv, envp);
            syscall(SYS_exit_group, errno == ENOENT ? 127 : 126);
        }
        if (pid < 0) syscall(SYS_exit_group, 126);
        int status = 0;
        while (syscall(SYS_wait4, pid, &status, 0, NULL) < 0 && errno == EINTR) {}
        syscall(SYS_exit_group, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    int err = errno;
    for (int i = 0; i < 7; i++) if (ns[i] >= 0) close(ns[i]);
    return middle < 0 ? -err : (pid_t)middle;
}
