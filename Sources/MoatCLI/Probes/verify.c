// moat syscalls --verify: one probe per syscall family, run inside a sandbox.
// Every check calls the syscall itself (syscall(2), not a libc wrapper that
// may use another one) and asserts what Linux does: results, errno, effects.
// Output, one line per check: "ok NAME" or "fail NAME what (errno)".
// Arguments "NR:ERRNO" ask for refused numbers: each must fail with ERRNO.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/futex.h>
#include <linux/mempolicy.h>
#include <linux/openat2.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define S(...) syscall(__VA_ARGS__)
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
// linux/sched/types.h clashes with glibc's sched.h.
struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};
static void check(const char *name, int pass, const char *what, int err) {
    if (pass) printf("ok %s\n", name);
    else printf("fail %s %s (%s)\n", name, what, strerrorname_np(err) ? strerrorname_np(err) : "0");
    fflush(stdout);
}
// T(name, condition): errno is saved before the condition's text is printed.
#define T(name, cond) do { errno = 0; int pass_ = (cond); check(name, pass_, #cond, errno); } while (0)
// E(name, call, errno): the call fails with that errno.
#define E(name, call, err) do { errno = 0; long r_ = (call); int e_ = errno; \
    check(name, r_ == -1 && e_ == (err), #call " fails with " #err, e_); } while (0)

static int has_cap(int cap) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (S(SYS_capget, &h, d) != 0) return 0;
    return (d[cap / 32].effective >> (cap % 32)) & 1;
}

// A child that runs `body` and exits with its result; returns the exit code (or 128+signal).
static int in_child(int (*body)(void)) {
    pid_t pid = fork();
    if (pid == 0) _exit(body());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static volatile sig_atomic_t caught;
static void on_signal(int sig) { caught = sig; }

static void files(void) {
    char buf[64];
    struct stat st;
    int fd = S(SYS_open, "/tmp/f1", O_CREAT | O_RDWR | O_TRUNC, 0600);
    T("open", fd >= 0);
    T("write", S(SYS_write, fd, "hello world!", 12) == 12);
    T("lseek", S(SYS_lseek, fd, 0, SEEK_SET) == 0 && S(SYS_lseek, fd, 0, SEEK_END) == 12);
    T("pread64", S(SYS_pread64, fd, buf, 5, 6) == 5 && memcmp(buf, "world", 5) == 0);
    T("pwrite64", S(SYS_pwrite64, fd, "W", 1, 6) == 1 && S(SYS_pread64, fd, buf, 1, 6) == 1 && buf[0] == 'W');
    S(SYS_lseek, fd, 0, SEEK_SET);
    T("read", S(SYS_read, fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
    struct iovec w[2] = { { "ab", 2 }, { "cd", 2 } }, r[2] = { { buf, 1 }, { buf + 1, 3 } };
    T("writev", S(SYS_lseek, fd, 0, SEEK_END) == 12 && S(SYS_writev, fd, w, 2) == 4);
    T("readv", S(SYS_lseek, fd, 12, SEEK_SET) == 12 && S(SYS_readv, fd, r, 2) == 4 && memcmp(buf, "abcd", 4) == 0);
    T("pwritev", S(SYS_pwritev, fd, w, 2, 16, 0) == 4);
    T("preadv", S(SYS_preadv, fd, r, 2, 16, 0) == 4 && memcmp(buf, "abcd", 4) == 0);
    T("pwritev2", S(SYS_pwritev2, fd, w, 2, 20, 0, 0) == 4);
    T("preadv2", S(SYS_preadv2, fd, r, 2, 20, 0, 0) == 4 && memcmp(buf, "abcd", 4) == 0);
    T("fstat", S(SYS_fstat, fd, &st) == 0 && st.st_size == 24 && S_ISREG(st.st_mode));
    T("stat", S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_size == 24);
    T("newfstatat", S(SYS_newfstatat, AT_FDCWD, "/tmp/f1", &st, 0) == 0 && st.st_size == 24);
    struct statx sx;
    T("statx", S(SYS_statx, AT_FDCWD, "/tmp/f1", 0, STATX_SIZE, &sx) == 0 && sx.stx_size == 24);
    T("ftruncate", S(SYS_ftruncate, fd, 100) == 0 && S(SYS_fstat, fd, &st) == 0 && st.st_size == 100);
    T("truncate", S(SYS_truncate, "/tmp/f1", 50) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_size == 50);
    T("fallocate", S(SYS_fallocate, fd, 0, 0, 8192) == 0 && S(SYS_fstat, fd, &st) == 0 && st.st_size == 8192);
    T("fsync", S(SYS_fsync, fd) == 0);
    T("fdatasync", S(SYS_fdatasync, fd) == 0);
    T("syncfs", S(SYS_syncfs, fd) == 0);
    T("sync", S(SYS_sync) == 0);
    T("sync_file_range", S(SYS_sync_file_range, fd, 0, 0, 0) == 0);
    T("fadvise64", S(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0);
    T("readahead", S(SYS_readahead, fd, 0, 4096) == 0);
    E("readahead", S(SYS_readahead, -1, 0, 4096), EBADF);
    int second = S(SYS_open, "/tmp/f1", O_RDONLY);
    T("flock", S(SYS_flock, fd, LOCK_EX) == 0);
    E("flock", S(SYS_flock, second, LOCK_EX | LOCK_NB), EWOULDBLOCK);
    T("flock", S(SYS_flock, fd, LOCK_UN) == 0 && S(SYS_flock, second, LOCK_EX | LOCK_NB) == 0);
    // Between two processes: the child cannot take the lock the parent holds.
    pid_t holder = fork();
    if (holder == 0) {
        int own = S(SYS_open, "/tmp/f1", O_RDONLY);
        _exit(S(SYS_flock, own, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK ? 0 : 1);
    }
    int held = 0;
    T("flock", waitpid(holder, &held, 0) == holder && WIFEXITED(held) && WEXITSTATUS(held) == 0);
    S(SYS_flock, second, LOCK_UN);
    T("fcntl", S(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) == 0 && S(SYS_fcntl, fd, F_GETFD) == FD_CLOEXEC);
    T("fcntl", (S(SYS_fcntl, fd, F_GETFL) & O_ACCMODE) == O_RDWR && S(SYS_fcntl, fd, F_DUPFD, 50) >= 50);
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    T("fcntl", S(SYS_fcntl, fd, F_SETLK, &lock) == 0);
    int d = S(SYS_dup, fd);
    T("dup", d > fd && S(SYS_lseek, d, 3, SEEK_SET) == 3 && S(SYS_lseek, fd, 0, SEEK_CUR) == 3);
    T("dup2", S(SYS_dup2, fd, 40) == 40 && S(SYS_fcntl, 40, F_GETFD) == 0);
    T("dup3", S(SYS_dup3, fd, 41, O_CLOEXEC) == 41 && S(SYS_fcntl, 41, F_GETFD) == FD_CLOEXEC);
    E("dup3", S(SYS_dup3, fd, fd, 0), EINVAL);
    T("close", S(SYS_close, 40) == 0);
    E("close", S(SYS_close, 40), EBADF);
    T("close_range", S(SYS_close_range, 41, 60, 0) == 0 && S(SYS_fcntl, 41, F_GETFD) == -1 && S(SYS_fcntl, 50, F_GETFD) == -1);
    T("creat", (d = S(SYS_creat, "/tmp/f2", 0640)) >= 0 && S(SYS_fstat, d, &st) == 0 && (st.st_mode & 0777) == 0640);
    T("access", S(SYS_access, "/tmp/f1", R_OK | W_OK) == 0);
    E("access", S(SYS_access, "/tmp/none", F_OK), ENOENT);
    T("faccessat", S(SYS_faccessat, AT_FDCWD, "/tmp/f1", R_OK) == 0);
    T("faccessat2", S(SYS_faccessat2, AT_FDCWD, "/tmp/f1", R_OK, AT_EACCESS) == 0);
    T("openat", (d = S(SYS_openat, AT_FDCWD, "/tmp", O_DIRECTORY | O_RDONLY)) >= 0 && S(SYS_openat, d, "f1", O_RDONLY) >= 0);
    struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
    T("openat2", S(SYS_openat2, d, "f1", &how, sizeof how) >= 0);
    E("openat2", S(SYS_openat2, d, "../tmp/f1", &how, sizeof how), EXDEV);
    T("mkdir", S(SYS_mkdir, "/tmp/d1", 0755) == 0 && S(SYS_stat, "/tmp/d1", &st) == 0 && S_ISDIR(st.st_mode));
    E("mkdir", S(SYS_mkdir, "/tmp/d1", 0755), EEXIST);
    T("mkdirat", S(SYS_mkdirat, d, "d2", 0700) == 0 && S(SYS_stat, "/tmp/d2", &st) == 0 && (st.st_mode & 0777) == 0700);
    T("rmdir", S(SYS_rmdir, "/tmp/d2") == 0 && S(SYS_stat, "/tmp/d2", &st) == -1);
    T("rename", S(SYS_rename, "/tmp/f2", "/tmp/f3") == 0 && S(SYS_stat, "/tmp/f3", &st) == 0);
    T("renameat", S(SYS_renameat, d, "f3", d, "f4") == 0 && S(SYS_stat, "/tmp/f4", &st) == 0);
    E("renameat2", S(SYS_renameat2, d, "f4", d, "f1", RENAME_NOREPLACE), EEXIST);
    T("renameat2", S(SYS_renameat2, d, "f4", d, "f1", RENAME_EXCHANGE) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_size == 0);
    S(SYS_renameat2, d, "f4", d, "f1", RENAME_EXCHANGE);
    T("link", S(SYS_link, "/tmp/f1", "/tmp/l1") == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_nlink == 2);
    T("linkat", S(SYS_linkat, d, "f1", d, "l2", 0) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_nlink == 3);
    T("unlink", S(SYS_unlink, "/tmp/l1") == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_nlink == 2);
    T("unlinkat", S(SYS_unlinkat, d, "l2", 0) == 0 && S(SYS_unlinkat, d, "d1", AT_REMOVEDIR) == 0);
    T("symlink", S(SYS_symlink, "f1", "/tmp/s1") == 0);
    T("symlinkat", S(SYS_symlinkat, "/tmp/f1", d, "s2") == 0);
    T("lstat", S(SYS_lstat, "/tmp/s1", &st) == 0 && S_ISLNK(st.st_mode) && S(SYS_stat, "/tmp/s1", &st) == 0 && S_ISREG(st.st_mode));
    memset(buf, 0, sizeof buf);
    T("readlink", S(SYS_readlink, "/tmp/s1", buf, sizeof buf) == 2 && memcmp(buf, "f1", 2) == 0);
    T("readlinkat", S(SYS_readlinkat, d, "s2", buf, sizeof buf) == 7 && memcmp(buf, "/tmp/f1", 7) == 0);
    T("chmod", S(SYS_chmod, "/tmp/f1", 0604) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && (st.st_mode & 0777) == 0604);
    T("fchmod", S(SYS_fchmod, fd, 0600) == 0 && S(SYS_fstat, fd, &st) == 0 && (st.st_mode & 0777) == 0600);
    T("fchmodat", S(SYS_fchmodat, d, "f1", 0640) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && (st.st_mode & 0777) == 0640);
    T("fchmodat2", S(SYS_fchmodat2, d, "f1", 0600, 0) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && (st.st_mode & 0777) == 0600);
    uid_t uid = getuid();
    gid_t gid = getgid();
    T("chown", S(SYS_chown, "/tmp/f1", uid, gid) == 0);
    T("fchown", S(SYS_fchown, fd, uid, gid) == 0);
    T("lchown", S(SYS_lchown, "/tmp/s1", uid, gid) == 0);
    T("fchownat", S(SYS_fchownat, d, "f1", uid, gid, 0) == 0);
    if (!has_cap(CAP_CHOWN)) E("chown", S(SYS_chown, "/tmp/f1", uid + 1, gid), EPERM);
    T("umask", S(SYS_umask, 027) >= 0 && S(SYS_umask, 022) == 027);
    struct utimbuf { time_t a, m; } ut = { 1000000, 2000000 };
    T("utime", S(SYS_utime, "/tmp/f1", &ut) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_mtime == 2000000);
    struct timeval tv[2] = { { 3000000, 0 }, { 4000000, 0 } };
    T("utimes", S(SYS_utimes, "/tmp/f1", tv) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_mtime == 4000000);
    T("futimesat", S(SYS_futimesat, d, "f1", tv) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_atime == 3000000);
    struct timespec ts[2] = { { 5000000, 0 }, { 6000000, 0 } };
    T("utimensat", S(SYS_utimensat, d, "f1", ts, 0) == 0 && S(SYS_stat, "/tmp/f1", &st) == 0 && st.st_mtime == 6000000);
    T("mknod", S(SYS_mknod, "/tmp/p1", S_IFIFO | 0600, 0) == 0 && S(SYS_stat, "/tmp/p1", &st) == 0 && S_ISFIFO(st.st_mode));
    T("mknodat", S(SYS_mknodat, d, "p2", S_IFREG | 0600, 0) == 0 && S(SYS_stat, "/tmp/p2", &st) == 0 && S_ISREG(st.st_mode));
    struct statfs sf;
    T("statfs", S(SYS_statfs, "/tmp", &sf) == 0 && sf.f_type == 0x01021994);
    T("fstatfs", S(SYS_fstatfs, fd, &sf) == 0 && sf.f_type == 0x01021994);
    T("setxattr", S(SYS_setxattr, "/tmp/f1", "user.moat", "v1", 2, 0) == 0);
    T("lsetxattr", S(SYS_lsetxattr, "/tmp/f1", "user.lm", "v2", 2, 0) == 0);
    T("fsetxattr", S(SYS_fsetxattr, fd, "user.fm", "v3", 2, 0) == 0);
    T("getxattr", S(SYS_getxattr, "/tmp/f1", "user.moat", buf, sizeof buf) == 2 && memcmp(buf, "v1", 2) == 0);
    T("lgetxattr", S(SYS_lgetxattr, "/tmp/f1", "user.lm", buf, sizeof buf) == 2 && memcmp(buf, "v2", 2) == 0);
    T("fgetxattr", S(SYS_fgetxattr, fd, "user.fm", buf, sizeof buf) == 2 && memcmp(buf, "v3", 2) == 0);
    T("listxattr", S(SYS_listxattr, "/tmp/f1", buf, sizeof buf) == 26);
    T("llistxattr", S(SYS_llistxattr, "/tmp/f1", buf, sizeof buf) == 26);
    T("flistxattr", S(SYS_flistxattr, fd, buf, sizeof buf) == 26);
    T("removexattr", S(SYS_removexattr, "/tmp/f1", "user.moat") == 0);
    T("lremovexattr", S(SYS_lremovexattr, "/tmp/f1", "user.lm") == 0);
    T("fremovexattr", S(SYS_fremovexattr, fd, "user.fm") == 0 && S(SYS_flistxattr, fd, buf, sizeof buf) == 0);
    E("getxattr", S(SYS_getxattr, "/tmp/f1", "user.moat", buf, sizeof buf), ENODATA);
    // Directories.
    char dents[4096];
    int dir = S(SYS_open, "/tmp", O_RDONLY | O_DIRECTORY);
    long n = S(SYS_getdents64, dir, dents, sizeof dents);
    T("getdents64", n > 0 && memmem(dents, n, "f1", 3) != NULL);
    S(SYS_lseek, dir, 0, SEEK_SET);
    n = S(SYS_getdents, dir, dents, sizeof dents);
    T("getdents", n > 0 && memmem(dents, n, "p1", 3) != NULL);
    T("chdir", S(SYS_chdir, "/tmp") == 0 && S(SYS_getcwd, buf, sizeof buf) == 5 && strcmp(buf, "/tmp") == 0);
    int root = S(SYS_open, "/", O_RDONLY | O_DIRECTORY);
    T("fchdir", S(SYS_fchdir, root) == 0 && S(SYS_getcwd, buf, sizeof buf) == 2 && strcmp(buf, "/") == 0);
    E("getcwd", S(SYS_getcwd, buf, 1), ERANGE);
    T("getcwd", S(SYS_getcwd, buf, sizeof buf) == 2);
    // Data between fds.
    int p[2];
    T("pipe", S(SYS_pipe, p) == 0 && S(SYS_write, p[1], "xyz", 3) == 3);
    int avail = 0;
    T("ioctl", S(SYS_ioctl, p[0], FIONREAD, &avail) == 0 && avail == 3);
    E("ioctl", S(SYS_ioctl, p[0], TCGETS, buf), ENOTTY);
    T("read", S(SYS_read, p[0], buf, 3) == 3 && memcmp(buf, "xyz", 3) == 0);
    int q[2];
    T("pipe2", S(SYS_pipe2, q, O_CLOEXEC | O_NONBLOCK) == 0 && S(SYS_fcntl, q[0], F_GETFD) == FD_CLOEXEC);
    E("pipe2", S(SYS_read, q[0], buf, 1), EAGAIN);
    S(SYS_lseek, fd, 0, SEEK_SET);
    S(SYS_write, fd, "0123456789", 10);
    off_t off = 2;
    T("sendfile", S(SYS_sendfile, p[1], fd, &off, 4) == 4 && off == 6 && S(SYS_read, p[0], buf, 4) == 4 && memcmp(buf, "2345", 4) == 0);
    S(SYS_write, p[1], "spl", 3);
    loff_t out = 30;
    T("splice", S(SYS_splice, p[0], NULL, fd, &out, 3, 0) == 3 && S(SYS_pread64, fd, buf, 3, 30) == 3 && memcmp(buf, "spl", 3) == 0);
    S(SYS_write, p[1], "tee", 3);
    T("tee", S(SYS_tee, p[0], q[1], 3, 0) == 3 && S(SYS_read, q[0], buf, 3) == 3 && S(SYS_read, p[0], buf + 3, 3) == 3
             && memcmp(buf, "teetee", 6) == 0);
    struct iovec v = { "vms", 3 };
    T("vmsplice", S(SYS_vmsplice, p[1], &v, 1, 0) == 3 && S(SYS_read, p[0], buf, 3) == 3 && memcmp(buf, "vms", 3) == 0);
    int copy = S(SYS_open, "/tmp/f5", O_CREAT | O_RDWR, 0600);
    loff_t from = 0, to = 0;
    T("copy_file_range", S(SYS_copy_file_range, fd, &from, copy, &to, 10, 0) == 10 && S(SYS_pread64, copy, buf, 10, 0) == 10
                         && memcmp(buf, "0123456789", 10) == 0);
    int memfd = S(SYS_memfd_create, "moat", MFD_CLOEXEC);
    T("memfd_create", memfd >= 0 && S(SYS_write, memfd, "mem", 3) == 3 && S(SYS_fstat, memfd, &st) == 0 && st.st_size == 3);
    // inotify.
    int in = S(SYS_inotify_init1, IN_NONBLOCK);
    T("inotify_init1", in >= 0);
    int watch = S(SYS_inotify_add_watch, in, "/tmp", IN_CREATE);
    T("inotify_add_watch", watch >= 0 && S(SYS_creat, "/tmp/watched", 0600) >= 0 && S(SYS_read, in, dents, sizeof dents) > 0
                           && memmem(dents, 64, "watched", 7) != NULL);
    T("inotify_rm_watch", S(SYS_inotify_rm_watch, in, watch) == 0);
    E("inotify_rm_watch", S(SYS_inotify_rm_watch, in, watch), EINVAL);
    T("inotify_init", S(SYS_inotify_init) >= 0);
}

static int exit_seven(void) { S(SYS_exit, 7); return 0; }
static int exit_group_nine(void) { S(SYS_exit_group, 9); return 0; }
static char *self_path = "/probe";
static int exec_self(void) { char *argv[] = { self_path, "exit42", NULL }; S(SYS_execve, self_path, argv, environ); return 1; }
static int execat_self(void) { char *argv[] = { self_path, "exit42", NULL }; S(SYS_execveat, AT_FDCWD, self_path, argv, environ, 0); return 1; }
static int nested_seccomp(void) {
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = { 1, &allow };
    if (S(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return 1;
    return getppid() >= 0 ? 0 : 2;
}

static void processes(void) {
    T("getpid", S(SYS_getpid) > 0 && S(SYS_getpid) == getpid());
    T("gettid", S(SYS_gettid) == S(SYS_getpid));
    T("getppid", S(SYS_getppid) >= 0);
    T("getpgrp", S(SYS_getpgrp) > 0);
    T("getpgid", S(SYS_getpgid, 0) == S(SYS_getpgrp));
    T("getsid", S(SYS_getsid, 0) > 0);
    E("getsid", S(SYS_getsid, 999999), ESRCH);
    E("getpgid", S(SYS_getpgid, 999999), ESRCH);
    E("kill", S(SYS_kill, 999999, 0), ESRCH);
    T("kill", S(SYS_kill, S(SYS_getpid), 0) == 0);
    T("tkill", S(SYS_tkill, S(SYS_gettid), 0) == 0);
    T("tgkill", S(SYS_tgkill, S(SYS_getpid), S(SYS_gettid), 0) == 0);
    E("tgkill", S(SYS_tgkill, 999999, 999999, 0), ESRCH);
    T("exit", in_child(exit_seven) == 7);
    T("exit_group", in_child(exit_group_nine) == 9);
    T("execve", in_child(exec_self) == 42);
    T("execveat", in_child(execat_self) == 42);
    T("seccomp", in_child(nested_seccomp) == 0);
    // Moat's policy: a nested filter may not take a listener (it could answer
    // calls before the sentry), and clone may not make namespaces.
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = { 1, &allow };
    E("seccomp", S(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog), EPERM);
    long made = S(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (made == 0) _exit(0);
    check("clone", made == -1 && errno == EPERM, "clone with namespace flags fails with EPERM", errno);
    // unshare: unknown flags are Linux's EINVAL, namespaces EPERM, the rest runs.
    E("unshare", S(SYS_unshare, 1UL << 40), EINVAL);
    E("unshare", S(SYS_unshare, CLONE_NEWNS), EPERM);
    T("unshare", S(SYS_unshare, 0) == 0 && S(SYS_unshare, CLONE_FS) == 0);
    uint32_t action = SECCOMP_RET_ALLOW;
    T("seccomp", S(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0);
    long child = S(SYS_fork);
    if (child == 0) _exit(3);
    int status = 0;
    T("fork", child > 0 && S(SYS_wait4, child, &status, 0, NULL) == child && WEXITSTATUS(status) == 3);
    child = S(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child == 0) _exit(4);
    siginfo_t info;
    T("clone", child > 0);
    T("waitid", S(SYS_waitid, P_PID, child, &info, WEXITED, NULL) == 0 && info.si_status == 4 && info.si_pid == child);
    E("wait4", S(SYS_wait4, -1, &status, WNOHANG, NULL), ECHILD);
    T("wait4", 1);
    child = vfork();
    if (child == 0) _exit(5);
    T("vfork", child > 0 && waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 5);
    child = S(SYS_fork);
    if (child == 0) { pause(); _exit(0); }
    int pidfd = S(SYS_pidfd_open, child, 0);
    T("pidfd_open", pidfd >= 0);
    E("pidfd_open", S(SYS_pidfd_open, 999999, 0), ESRCH);
    // The child's stdin, taken through its pidfd: the same file as ours.
    int taken = S(SYS_pidfd_getfd, pidfd, 0, 0);
    struct stat mine, theirs;
    T("pidfd_getfd", taken >= 0 && fstat(taken, &theirs) == 0 && fstat(0, &mine) == 0 && mine.st_ino == theirs.st_ino);
    T("pidfd_send_signal", S(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0 && waitpid(child, &status, 0) == child
                           && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    E("setsid", S(SYS_getsid, 0) == S(SYS_getpid) ? S(SYS_setsid) : (errno = EPERM, -1), EPERM);
    child = S(SYS_fork);
    if (child == 0) _exit(S(SYS_setsid) == S(SYS_getpid) ? 0 : 1);
    T("setsid", waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 0);
    child = S(SYS_fork);
    if (child == 0) _exit(S(SYS_setpgid, 0, 0) == 0 && S(SYS_getpgrp) == S(SYS_getpid) ? 0 : 1);
    T("setpgid", waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 0);
    struct rlimit lim;
    T("prlimit64", S(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) == 0 && lim.rlim_cur > 0);
    E("prlimit64", S(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &lim), ESRCH);
    T("getrlimit", S(SYS_getrlimit, RLIMIT_NOFILE, &lim) == 0);
    struct rlimit lower = { lim.rlim_cur - 1, lim.rlim_max };
    T("setrlimit", S(SYS_setrlimit, RLIMIT_NOFILE, &lower) == 0 && S(SYS_getrlimit, RLIMIT_NOFILE, &lim) == 0
                   && lim.rlim_cur == lower.rlim_cur);
    T("getpriority", S(SYS_getpriority, PRIO_PROCESS, 0) == 20);
    T("setpriority", S(SYS_setpriority, PRIO_PROCESS, 0, 5) == 0 && S(SYS_getpriority, PRIO_PROCESS, 0) == 15);
    E("getpriority", S(SYS_getpriority, PRIO_PROCESS, 999999), ESRCH);
    T("ioprio_get", S(SYS_ioprio_get, 1, 0) >= 0);
    T("ioprio_set", S(SYS_ioprio_set, 1, 0, (2 << 13) | 4) == 0 && S(SYS_ioprio_get, 1, 0) == ((2 << 13) | 4));
    cpu_set_t set;
    T("sched_getaffinity", S(SYS_sched_getaffinity, 0, sizeof set, &set) > 0 && CPU_COUNT(&set) >= 1);
    T("sched_setaffinity", S(SYS_sched_setaffinity, 0, sizeof set, &set) == 0);
    E("sched_getaffinity", S(SYS_sched_getaffinity, 999999, sizeof set, &set), ESRCH);
    struct sched_param param = { 0 };
    T("sched_getparam", S(SYS_sched_getparam, 0, &param) == 0 && param.sched_priority == 0);
    T("sched_setparam", S(SYS_sched_setparam, 0, &param) == 0);
    T("sched_getscheduler", S(SYS_sched_getscheduler, 0) == SCHED_OTHER);
    T("sched_setscheduler", S(SYS_sched_setscheduler, 0, SCHED_BATCH, &param) == 0 && S(SYS_sched_getscheduler, 0) == SCHED_BATCH);
    S(SYS_sched_setscheduler, 0, SCHED_OTHER, &param);
    struct timespec rr;
    T("sched_rr_get_interval", S(SYS_sched_rr_get_interval, 0, &rr) == 0);
    struct sched_attr attr = { .size = sizeof attr };
    T("sched_getattr", S(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0 && attr.sched_policy == SCHED_OTHER);
    T("sched_setattr", S(SYS_sched_setattr, 0, &attr, 0) == 0);
    T("sched_get_priority_max", S(SYS_sched_get_priority_max, SCHED_FIFO) == 99);
    T("sched_get_priority_min", S(SYS_sched_get_priority_min, SCHED_FIFO) == 1);
    T("sched_yield", S(SYS_sched_yield) == 0);
    unsigned cpu = 99;
    T("getcpu", S(SYS_getcpu, &cpu, NULL, NULL) == 0 && cpu < 4096);
}

static void signals(void) {
    struct sigaction act = { 0 }, old;
    act.sa_handler = on_signal;
    T("rt_sigaction", S(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8) == 0);
    T("rt_sigaction", sigaction(SIGUSR1, &act, NULL) == 0 && S(SYS_kill, S(SYS_getpid), SIGUSR1) == 0 && caught == SIGUSR1);
    T("rt_sigreturn", caught == SIGUSR1);   // the handler returned through it
    sigset_t block, pending, previous;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    T("rt_sigprocmask", S(SYS_rt_sigprocmask, SIG_BLOCK, &block, &previous, 8) == 0);
    S(SYS_kill, S(SYS_getpid), SIGUSR2);
    T("rt_sigpending", S(SYS_rt_sigpending, &pending, 8) == 0 && sigismember(&pending, SIGUSR2));
    siginfo_t info;
    struct timespec zero = { 0, 0 };
    T("rt_sigtimedwait", S(SYS_rt_sigtimedwait, &block, &info, &zero, 8) == SIGUSR2 && info.si_signo == SIGUSR2);
    E("rt_sigtimedwait", S(SYS_rt_sigtimedwait, &block, &info, &zero, 8), EAGAIN);
    siginfo_t queued = { .si_signo = SIGUSR2, .si_code = SI_QUEUE };
    queued.si_value.sival_int = 77;
    T("rt_sigqueueinfo", S(SYS_rt_sigqueueinfo, S(SYS_getpid), SIGUSR2, &queued) == 0
                         && S(SYS_rt_sigtimedwait, &block, &info, &zero, 8) == SIGUSR2 && info.si_value.sival_int == 77);
    T("rt_tgsigqueueinfo", S(SYS_rt_tgsigqueueinfo, S(SYS_getpid), S(SYS_gettid), SIGUSR2, &queued) == 0
                           && S(SYS_rt_sigtimedwait, &block, &info, &zero, 8) == SIGUSR2);
    E("rt_sigqueueinfo", S(SYS_rt_sigqueueinfo, 999999, SIGUSR2, &queued), ESRCH);
    int sfd = S(SYS_signalfd4, -1, &block, 8, SFD_NONBLOCK);
    struct signalfd_siginfo si;
    S(SYS_kill, S(SYS_getpid), SIGUSR2);
    T("signalfd4", sfd >= 0 && S(SYS_read, sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR2);
    int sfd2 = S(SYS_signalfd, -1, &block, 8);
    S(SYS_kill, S(SYS_getpid), SIGUSR2);
    T("signalfd", sfd2 >= 0 && S(SYS_read, sfd2, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR2);
    stack_t stack = { .ss_sp = malloc(65536), .ss_size = 65536 }, old_stack;
    T("sigaltstack", S(SYS_sigaltstack, &stack, NULL) == 0 && S(SYS_sigaltstack, NULL, &old_stack) == 0 && old_stack.ss_size == 65536);
    // pause and rt_sigsuspend return once a handled signal arrives (from a timer).
    struct itimerval tick = { { 0, 0 }, { 0, 20000 } }, current;
    sigaction(SIGALRM, &act, NULL);
    caught = 0;
    T("setitimer", S(SYS_setitimer, ITIMER_REAL, &tick, NULL) == 0);
    E("pause", S(SYS_pause), EINTR);
    T("pause", caught == SIGALRM);
    caught = 0;
    S(SYS_setitimer, ITIMER_REAL, &tick, NULL);
    sigset_t none;
    sigemptyset(&none);
    E("rt_sigsuspend", S(SYS_rt_sigsuspend, &none, 8), EINTR);
    struct itimerval later = { { 0, 0 }, { 100, 0 } };
    S(SYS_setitimer, ITIMER_REAL, &later, NULL);
    T("getitimer", S(SYS_getitimer, ITIMER_REAL, &current) == 0 && current.it_value.tv_sec > 90);
    T("alarm", S(SYS_alarm, 50) >= 99 && S(SYS_alarm, 0) == 50);
    E("restart_syscall", S(SYS_restart_syscall), EINTR);
    S(SYS_rt_sigprocmask, SIG_SETMASK, &previous, NULL, 8);
}

static int futex_word;
static void memory_and_threads(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *m = (char *)S(SYS_mmap, NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T("mmap", m != MAP_FAILED && (m[0] = 1) == 1);
    T("mprotect", S(SYS_mprotect, m, page, PROT_READ) == 0);
    unsigned char vec[4];
    T("mincore", S(SYS_mincore, m, 4 * page, vec) == 0 && (vec[0] & 1));
    T("madvise", S(SYS_madvise, m + page, page, MADV_DONTNEED) == 0);
    T("msync", S(SYS_msync, m, page, MS_SYNC) == 0);
    T("mlock", S(SYS_mlock, m + page, page) == 0);
    T("munlock", S(SYS_munlock, m + page, page) == 0);
    T("mlock2", S(SYS_mlock2, m + page, page, MLOCK_ONFAULT) == 0 && S(SYS_munlock, m + page, page) == 0);
    T("mlockall", S(SYS_mlockall, MCL_CURRENT | MCL_ONFAULT) == 0);
    T("munlockall", S(SYS_munlockall) == 0);
    char *grown = (char *)S(SYS_mremap, m + 2 * page, page, 2 * page, MREMAP_MAYMOVE);
    T("mremap", grown != MAP_FAILED);
    T("munmap", S(SYS_munmap, m, 2 * page) == 0 && S(SYS_mincore, m, page, vec) == -1 && errno == ENOMEM);
    long brk = S(SYS_brk, 0);
    T("brk", brk > 0 && S(SYS_brk, brk + page) == brk + page && S(SYS_brk, brk) == brk);
    int fd = S(SYS_open, "/tmp/mapped", O_CREAT | O_RDWR, 0600);
    S(SYS_ftruncate, fd, 2 * page);
    char *shared = (char *)S(SYS_mmap, NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    T("remap_file_pages", S(SYS_remap_file_pages, shared, page, 0, 1, 0) == 0);
    // Without protection keys in the CPU, pkey_alloc fails with EINVAL.
    int key = S(SYS_pkey_alloc, 0, 0), key_errno = errno;
    T("pkey_alloc", key >= 0 || key_errno == EINVAL || key_errno == ENOSPC);
    T("pkey_mprotect", key >= 0 ? S(SYS_pkey_mprotect, shared, page, PROT_READ, key) == 0
                                : S(SYS_pkey_mprotect, shared, page, PROT_READ, -1) == 0);
    T("pkey_free", key >= 0 ? S(SYS_pkey_free, key) == 0 : (S(SYS_pkey_free, 5) == -1 && errno == EINVAL));
    T("membarrier", S(SYS_membarrier, 0, 0, 0) >= 0);
    int mode = -1;
    T("get_mempolicy", S(SYS_get_mempolicy, &mode, NULL, 0, NULL, 0) == 0 && mode == MPOL_DEFAULT);
    T("set_mempolicy", S(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0) == 0);
    unsigned long node = 1;
    T("mbind", S(SYS_mbind, shared, page, MPOL_BIND, &node, 2, 0) == 0);
    T("set_mempolicy_home_node", S(SYS_set_mempolicy_home_node, shared, page, 0, 0) == 0);
    // Futexes, robust lists, TLS and rseq: the calling thread's own.
    T("futex", S(SYS_futex, &futex_word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0);
    struct timespec short_wait = { 0, 1000 };
    E("futex", S(SYS_futex, &futex_word, FUTEX_WAIT, 1, &short_wait, NULL, 0), EAGAIN);
    E("futex", S(SYS_futex, &futex_word, FUTEX_WAIT, 0, &short_wait, NULL, 0), ETIMEDOUT);
    struct futex_waitv waiter = { .val = 1, .uaddr = (uintptr_t)&futex_word, .flags = FUTEX_32 };
    E("futex_waitv", S(SYS_futex_waitv, &waiter, 1, 0, NULL, CLOCK_MONOTONIC), EAGAIN);
    // Absolute deadlines on the monotonic clock (as this process reads it) are
    // kept: a wait that nobody ends times out then, not at once.
    struct timespec begin, deadline, end;
    clock_gettime(CLOCK_MONOTONIC, &begin);
    deadline = begin;
    deadline.tv_nsec += 20000000;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    E("futex", S(SYS_futex, &futex_word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &deadline, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &end);
    T("futex", (end.tv_sec - begin.tv_sec) * 1000000000L + (end.tv_nsec - begin.tv_nsec) >= 19000000);
    struct futex_waitv waiting = { .val = 0, .uaddr = (uintptr_t)&futex_word, .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG };
    clock_gettime(CLOCK_MONOTONIC, &begin);
    deadline = begin;
    deadline.tv_nsec += 20000000;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    E("futex_waitv", S(SYS_futex_waitv, &waiting, 1, 0, &deadline, CLOCK_MONOTONIC), ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &end);
    T("futex_waitv", (end.tv_sec - begin.tv_sec) * 1000000000L + (end.tv_nsec - begin.tv_nsec) >= 19000000);
    void *head;
    size_t length;
    T("get_robust_list", S(SYS_get_robust_list, 0, &head, &length) == 0 && length > 0);
    T("set_robust_list", S(SYS_set_robust_list, head, length) == 0);
    E("set_robust_list", S(SYS_set_robust_list, head, length + 1), EINVAL);
    T("set_tid_address", S(SYS_set_tid_address, NULL) == S(SYS_gettid));
    unsigned long fs = 0;
    T("arch_prctl", S(SYS_arch_prctl, 0x1003, &fs) == 0 && fs != 0);
    E("rseq", S(SYS_rseq, NULL, 0, 0, 0), EINVAL);
    char name[16] = { 0 };
    T("prctl", S(SYS_prctl, PR_SET_NAME, "verified", 0, 0, 0) == 0 && S(SYS_prctl, PR_GET_NAME, name, 0, 0, 0) == 0
               && strcmp(name, "verified") == 0);
    T("prctl", S(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    T("personality", S(SYS_personality, 0xffffffff) == 0);
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct caps[2];
    T("capget", S(SYS_capget, &h, caps) == 0);
    T("capset", S(SYS_capset, &h, caps) == 0);
    unsigned char random[16] = { 0 };
    T("getrandom", S(SYS_getrandom, random, sizeof random, 0) == 16);
    struct rusage usage;
    T("getrusage", S(SYS_getrusage, RUSAGE_SELF, &usage) == 0 && usage.ru_maxrss > 0);
}

static void credentials(void) {
    uid_t r, e, s;
    gid_t gr, ge, gs;
    T("getuid", S(SYS_getuid) == getuid());
    T("geteuid", S(SYS_geteuid) == S(SYS_getuid));
    T("getgid", S(SYS_getgid) == getgid());
    T("getegid", S(SYS_getegid) == S(SYS_getgid));
    T("getresuid", S(SYS_getresuid, &r, &e, &s) == 0 && r == S(SYS_getuid) && s == r);
    T("getresgid", S(SYS_getresgid, &gr, &ge, &gs) == 0 && gr == S(SYS_getgid));
    gid_t groups[64];
    T("getgroups", S(SYS_getgroups, 64, groups) >= 0);
    T("setuid", S(SYS_setuid, r) == 0);
    T("setgid", S(SYS_setgid, gr) == 0);
    T("setreuid", S(SYS_setreuid, -1, -1) == 0);
    T("setregid", S(SYS_setregid, -1, -1) == 0);
    T("setresuid", S(SYS_setresuid, -1, -1, -1) == 0);
    T("setresgid", S(SYS_setresgid, -1, -1, -1) == 0);
    T("setfsuid", S(SYS_setfsuid, -1) == (long)r);
    T("setfsgid", S(SYS_setfsgid, -1) == (long)gr);
    if (has_cap(CAP_SETGID)) T("setgroups", S(SYS_setgroups, 0, NULL) == 0);
    else E("setgroups", S(SYS_setgroups, 0, NULL), EPERM);
    if (!has_cap(CAP_SETUID) && r != 0) E("setuid", S(SYS_setuid, 0), EPERM);
}

static void time_and_names(void) {
    struct timespec a, b, res;
    T("clock_gettime", S(SYS_clock_gettime, CLOCK_MONOTONIC, &a) == 0 && S(SYS_clock_gettime, CLOCK_MONOTONIC, &b) == 0
                       && (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)));
    E("clock_gettime", S(SYS_clock_gettime, 99, &a), EINVAL);
    T("clock_getres", S(SYS_clock_getres, CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
    struct timeval tv;
    time_t now = 0;
    T("gettimeofday", S(SYS_gettimeofday, &tv, NULL) == 0 && tv.tv_sec > 0);
    T("time", S(SYS_time, &now) == now && labs(now - tv.tv_sec) <= 2);
    struct timespec sleep = { 0, 2000000 };
    S(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
    T("nanosleep", S(SYS_nanosleep, &sleep, NULL) == 0);
    T("clock_nanosleep", S(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &sleep, NULL) == 0);
    S(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
    long elapsed = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
    T("nanosleep", elapsed >= 4000000);
    struct timespec deadline = b;
    deadline.tv_nsec += 3000000;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    T("clock_nanosleep", S(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == 0
                         && S(SYS_clock_gettime, CLOCK_MONOTONIC, &a) == 0
                         && (a.tv_sec > deadline.tv_sec || (a.tv_sec == deadline.tv_sec && a.tv_nsec >= deadline.tv_nsec)));
    // A signal during the sleep (here SIGCHLD, ignored: the kernel restarts
    // the call) does not end it early, nor make it last forever.
    pid_t quick = fork();
    if (quick == 0) _exit(0);
    S(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
    deadline = b;
    deadline.tv_nsec += 50000000;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }
    T("clock_nanosleep", S(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == 0
                         && S(SYS_clock_gettime, CLOCK_MONOTONIC, &a) == 0
                         && (a.tv_sec - b.tv_sec) * 1000000000L + (a.tv_nsec - b.tv_nsec) >= 49000000
                         && (a.tv_sec - b.tv_sec) < 2);
    waitpid(quick, NULL, 0);
    struct tms t;
    T("times", S(SYS_times, &t) >= 0);
    struct sysinfo info;
    T("sysinfo", S(SYS_sysinfo, &info) == 0 && info.procs >= 1 && info.totalram > 0);
    int tfd = S(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec spec = { { 0, 0 }, { 0, 5000000 } }, left;
    T("timerfd_create", tfd >= 0);
    T("timerfd_settime", S(SYS_timerfd_settime, tfd, 0, &spec, NULL) == 0);
    T("timerfd_gettime", S(SYS_timerfd_gettime, tfd, &left) == 0 && left.it_value.tv_nsec > 0);
    uint64_t expirations = 0;
    struct pollfd pfd = { tfd, POLLIN, 0 };
    T("timerfd_settime", poll(&pfd, 1, 1000) == 1 && S(SYS_read, tfd, &expirations, 8) == 8 && expirations == 1);
    // An absolute deadline on the monotonic clock (as the caller reads it)
    // fires then, not before; remaining times are relative.
    struct timespec start, fired;
    S(SYS_clock_gettime, CLOCK_MONOTONIC, &start);
    struct itimerspec absolute = { { 0, 0 }, { start.tv_sec, start.tv_nsec + 20000000 } };
    if (absolute.it_value.tv_nsec >= 1000000000L) { absolute.it_value.tv_sec++; absolute.it_value.tv_nsec -= 1000000000L; }
    T("timerfd_settime", S(SYS_timerfd_settime, tfd, TFD_TIMER_ABSTIME, &absolute, NULL) == 0
                         && S(SYS_timerfd_gettime, tfd, &left) == 0 && left.it_value.tv_sec == 0 && left.it_value.tv_nsec > 10000000);
    T("timerfd_settime", poll(&pfd, 1, 1000) == 1 && S(SYS_read, tfd, &expirations, 8) == 8
                         && S(SYS_clock_gettime, CLOCK_MONOTONIC, &fired) == 0
                         && (fired.tv_sec - start.tv_sec) * 1000000000L + (fired.tv_nsec - start.tv_nsec) >= 19000000);
    timer_t timer;
    struct sigevent event = { .sigev_notify = SIGEV_NONE };
    T("timer_create", S(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer) == 0);
    struct itimerspec long_timer = { { 0, 0 }, { 100, 0 } };
    T("timer_settime", S(SYS_timer_settime, timer, 0, &long_timer, NULL) == 0);
    T("timer_gettime", S(SYS_timer_gettime, timer, &left) == 0 && left.it_value.tv_sec >= 99);
    struct itimerspec later_abs = { { 0, 0 }, { start.tv_sec + 100, start.tv_nsec } };
    T("timer_settime", S(SYS_timer_settime, timer, TIMER_ABSTIME, &later_abs, NULL) == 0
                       && S(SYS_timer_gettime, timer, &left) == 0 && left.it_value.tv_sec >= 98 && left.it_value.tv_sec <= 100);
    T("timer_getoverrun", S(SYS_timer_getoverrun, timer) == 0);
    T("timer_delete", S(SYS_timer_delete, timer) == 0);
    E("timer_delete", S(SYS_timer_delete, timer), EINVAL);
    struct utsname u;
    T("uname", S(SYS_uname, &u) == 0 && strcmp(u.sysname, "Linux") == 0 && u.nodename[0] != 0);
    if (has_cap(CAP_SYS_ADMIN)) {
        T("sethostname", S(SYS_sethostname, "verified", 8) == 0 && S(SYS_uname, &u) == 0 && strcmp(u.nodename, "verified") == 0);
        T("setdomainname", S(SYS_setdomainname, "example", 7) == 0 && S(SYS_uname, &u) == 0 && strcmp(u.domainname, "example") == 0);
    } else {
        E("sethostname", S(SYS_sethostname, "verified", 8), EPERM);
        E("setdomainname", S(SYS_setdomainname, "example", 7), EPERM);
    }
}

static void waiting(void) {
    int p[2];
    pipe(p);
    S(SYS_write, p[1], "w", 1);
    struct pollfd pfd = { p[0], POLLIN, 0 };
    T("poll", S(SYS_poll, &pfd, 1, 0) == 1 && (pfd.revents & POLLIN));
    struct timespec zero = { 0, 0 };
    T("ppoll", S(SYS_ppoll, &pfd, 1, &zero, NULL, 8) == 1);
    fd_set set;
    FD_ZERO(&set);
    FD_SET(p[0], &set);
    struct timeval tv = { 0, 0 };
    T("select", S(SYS_select, p[0] + 1, &set, NULL, NULL, &tv) == 1 && FD_ISSET(p[0], &set));
    FD_SET(p[0], &set);
    T("pselect6", S(SYS_pselect6, p[0] + 1, &set, NULL, NULL, &zero, NULL) == 1);
    int ep = S(SYS_epoll_create1, EPOLL_CLOEXEC);
    T("epoll_create1", ep >= 0);
    T("epoll_create", S(SYS_epoll_create, 1) >= 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 }, got[2];
    T("epoll_ctl", S(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    E("epoll_ctl", S(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    T("epoll_wait", S(SYS_epoll_wait, ep, got, 2, 0) == 1 && got[0].data.u64 == 7);
    T("epoll_pwait", S(SYS_epoll_pwait, ep, got, 2, 0, NULL, 8) == 1);
    T("epoll_pwait2", S(SYS_epoll_pwait2, ep, got, 2, &zero, NULL, 8) == 1);
    int efd = S(SYS_eventfd2, 3, EFD_NONBLOCK);
    uint64_t value = 0;
    T("eventfd2", efd >= 0 && S(SYS_read, efd, &value, 8) == 8 && value == 3);
    E("eventfd2", S(SYS_read, efd, &value, 8), EAGAIN);
    int efd1 = S(SYS_eventfd, 5);
    T("eventfd", efd1 >= 0 && S(SYS_read, efd1, &value, 8) == 8 && value == 5);
}

static void sockets_and_ipc(void) {
    int sv[2];
    char buf[64];
    T("socketpair", S(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    T("sendto", S(SYS_sendto, sv[0], "ping", 4, 0, NULL, 0) == 4);
    T("recvfrom", S(SYS_recvfrom, sv[1], buf, sizeof buf, 0, NULL, NULL) == 4 && memcmp(buf, "ping", 4) == 0);
    struct iovec io = { "msg", 3 };
    struct msghdr msg = { .msg_iov = &io, .msg_iovlen = 1 };
    T("sendmsg", S(SYS_sendmsg, sv[0], &msg, 0) == 3);
    struct iovec in = { buf, sizeof buf };
    struct msghdr rmsg = { .msg_iov = &in, .msg_iovlen = 1 };
    T("recvmsg", S(SYS_recvmsg, sv[1], &rmsg, 0) == 3 && memcmp(buf, "msg", 3) == 0);
    int dg[2];
    S(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, dg);
    struct mmsghdr many[2] = { { { .msg_iov = &io, .msg_iovlen = 1 }, 0 }, { { .msg_iov = &io, .msg_iovlen = 1 }, 0 } };
    T("sendmmsg", S(SYS_sendmmsg, dg[0], many, 2, 0) == 2);
    struct iovec in2[2] = { { buf, 8 }, { buf + 8, 8 } };
    struct mmsghdr rmany[2] = { { { .msg_iov = &in2[0], .msg_iovlen = 1 }, 0 }, { { .msg_iov = &in2[1], .msg_iovlen = 1 }, 0 } };
    T("recvmmsg", S(SYS_recvmmsg, dg[1], rmany, 2, 0, NULL) == 2 && rmany[1].msg_len == 3);
    T("shutdown", S(SYS_shutdown, sv[0], SHUT_WR) == 0 && S(SYS_read, sv[1], buf, 1) == 0);
    int server = S(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    T("socket", server >= 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/tmp/verify.sock" };
    T("bind", S(SYS_bind, server, &addr, sizeof addr) == 0);
    T("listen", S(SYS_listen, server, 4) == 0);
    int client = S(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    T("connect", S(SYS_connect, client, &addr, sizeof addr) == 0);
    int conn = S(SYS_accept, server, NULL, NULL);
    T("accept", conn >= 0 && S(SYS_write, client, "hi", 2) == 2 && S(SYS_read, conn, buf, 2) == 2);
    int client2 = S(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    S(SYS_connect, client2, &addr, sizeof addr);
    int conn2 = S(SYS_accept4, server, NULL, NULL, SOCK_CLOEXEC);
    T("accept4", conn2 >= 0 && S(SYS_fcntl, conn2, F_GETFD) == FD_CLOEXEC);
    // An epoll server: a client process connects and writes; the server's
    // epoll reports the listening socket, then the connection.
    int ep = S(SYS_epoll_create1, 0);
    struct epoll_event ready = { .events = EPOLLIN, .data.fd = server }, polled[4];
    S(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, server, &ready);
    pid_t peer = fork();
    if (peer == 0) {
        int c = S(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
        _exit(S(SYS_connect, c, &addr, sizeof addr) == 0 && S(SYS_write, c, "epoll", 5) == 5 ? 0 : 1);
    }
    int accepted = -1;
    T("epoll_wait", S(SYS_epoll_wait, ep, polled, 4, 2000) == 1 && polled[0].data.fd == server
                    && (accepted = S(SYS_accept, server, NULL, NULL)) >= 0);
    struct epoll_event data = { .events = EPOLLIN, .data.fd = accepted };
    S(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, accepted, &data);
    T("epoll_wait", S(SYS_epoll_wait, ep, polled, 4, 2000) >= 1 && S(SYS_read, accepted, buf, 5) == 5 && memcmp(buf, "epoll", 5) == 0);
    int peer_status = 0;
    T("connect", waitpid(peer, &peer_status, 0) == peer && WEXITSTATUS(peer_status) == 0);
    struct sockaddr_un name;
    socklen_t len = sizeof name;
    T("getsockname", S(SYS_getsockname, server, &name, &len) == 0 && strcmp(name.sun_path, "/tmp/verify.sock") == 0);
    len = sizeof name;
    T("getpeername", S(SYS_getpeername, client, &name, &len) == 0 && strcmp(name.sun_path, "/tmp/verify.sock") == 0);
    int size = 65536, got = 0;
    socklen_t optlen = sizeof got;
    T("setsockopt", S(SYS_setsockopt, client, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0);
    T("getsockopt", S(SYS_getsockopt, client, SOL_SOCKET, SO_SNDBUF, &got, &optlen) == 0 && got >= size);
    // System V IPC and POSIX queues, in the sandbox's IPC namespace.
    int shm = S(SYS_shmget, IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    T("shmget", shm >= 0);
    char *at = (char *)S(SYS_shmat, shm, NULL, 0);
    T("shmat", at != (char *)-1 && (at[0] = 'x') == 'x');
    struct shmid_ds ds;
    T("shmctl", S(SYS_shmctl, shm, IPC_STAT, &ds) == 0 && ds.shm_segsz == 4096 && ds.shm_nattch == 1);
    T("shmdt", S(SYS_shmdt, at) == 0 && S(SYS_shmctl, shm, IPC_RMID, NULL) == 0);
    int sem = S(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0600);
    T("semget", sem >= 0);
    struct sembuf up = { 0, 2, 0 }, down = { 0, -1, IPC_NOWAIT };
    T("semop", S(SYS_semop, sem, &up, 1) == 0 && S(SYS_semop, sem, &down, 1) == 0);
    T("semctl", S(SYS_semctl, sem, 0, GETVAL, 0) == 1);
    struct timespec zero = { 0, 0 };
    struct sembuf wait_zero = { 0, 0, 0 };
    E("semtimedop", S(SYS_semtimedop, sem, &wait_zero, 1, &zero), EAGAIN);
    S(SYS_semctl, sem, 0, IPC_RMID, 0);
    int q = S(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600);
    struct { long type; char text[8]; } out = { 5, "queued" }, back;
    T("msgget", q >= 0);
    T("msgsnd", S(SYS_msgsnd, q, &out, 7, 0) == 0);
    T("msgrcv", S(SYS_msgrcv, q, &back, 8, 5, 0) == 7 && strcmp(back.text, "queued") == 0);
    struct msqid_ds qs;
    T("msgctl", S(SYS_msgctl, q, IPC_STAT, &qs) == 0 && qs.msg_qnum == 0 && S(SYS_msgctl, q, IPC_RMID, NULL) == 0);
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 16 }, now;
    int mq = S(SYS_mq_open, "verify", O_CREAT | O_RDWR | O_NONBLOCK, 0600, &attr);
    T("mq_open", mq >= 0);
    T("mq_timedsend", S(SYS_mq_timedsend, mq, "mq", 2, 1, NULL) == 0);
    unsigned priority = 0;
    T("mq_timedreceive", S(SYS_mq_timedreceive, mq, buf, 16, &priority, NULL) == 2 && priority == 1);
    T("mq_getsetattr", S(SYS_mq_getsetattr, mq, NULL, &now) == 0 && now.mq_maxmsg == 4);
    // An empty queue, waited on until an absolute REALTIME deadline.
    int blocking = S(SYS_mq_open, "verify-wait", O_CREAT | O_RDWR, 0600, &attr);
    struct timespec start_rt, until;
    clock_gettime(CLOCK_REALTIME, &start_rt);
    until = start_rt;
    until.tv_nsec += 20000000;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    E("mq_timedreceive", S(SYS_mq_timedreceive, blocking, buf, 16, NULL, &until), ETIMEDOUT);
    S(SYS_mq_unlink, "verify-wait");
    struct sigevent note = { .sigev_notify = SIGEV_NONE };
    T("mq_notify", S(SYS_mq_notify, mq, &note) == 0 && S(SYS_mq_notify, mq, NULL) == 0);
    T("mq_unlink", S(SYS_mq_unlink, "verify") == 0);
    E("mq_unlink", S(SYS_mq_unlink, "verify"), ENOENT);
    // Linux AIO on a file in /tmp.
    aio_context_t ctx = 0;
    T("io_setup", S(SYS_io_setup, 8, &ctx) == 0);
    int fd = S(SYS_open, "/tmp/aio", O_CREAT | O_RDWR, 0600);
    S(SYS_write, fd, "async", 5);
    struct iocb cb = { .aio_fildes = fd, .aio_lio_opcode = IOCB_CMD_PREAD, .aio_buf = (uintptr_t)buf, .aio_nbytes = 5 };
    struct iocb *list[1] = { &cb };
    struct io_event events[1];
    T("io_submit", S(SYS_io_submit, ctx, 1, list) == 1);
    T("io_getevents", S(SYS_io_getevents, ctx, 1, 1, events, NULL) == 1 && events[0].res == 5 && memcmp(buf, "async", 5) == 0);
    E("io_cancel", S(SYS_io_cancel, ctx, &cb, events), EINVAL);
    T("io_pgetevents", S(SYS_io_pgetevents, ctx, 0, 1, events, &zero, NULL) == 0);
    T("io_destroy", S(SYS_io_destroy, ctx) == 0);
}

// Refused numbers: each "NR:ERRNO" argument must fail with that errno. Their
// arguments are all zero: were one let through, it would still do nothing.
static void refused(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        int nr, err;
        if (sscanf(argv[i], "%d:%d", &nr, &err) != 2) continue;
        errno = 0;
        long r = syscall(nr, 0, 0, 0, 0, 0, 0);
        char name[32];
        snprintf(name, sizeof name, "#%d", nr);
        check(name, r == -1 && errno == err, "refused with its errno", errno);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "exit42") == 0) return 42;
    self_path = argv[0];
    setvbuf(stdout, NULL, _IOLBF, 0);
    files();
    processes();
    signals();
    memory_and_threads();
    credentials();
    time_and_names();
    waiting();
    sockets_and_ipc();
    refused(argc, argv);
    printf("done\n");
    return 0;
}
