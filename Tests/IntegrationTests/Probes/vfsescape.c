// File-system escapes: each case tries to reach a marker file outside the
// rootfs (its host path is argv[1], its text argv[2]) and prints
// "<case>=contained" or "<case>=ESCAPED <how>". Races run for a fixed
// number of rounds with a second thread changing links or buffers.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *marker, *secret;
static char markerDir[4096];

// 1 if the fd's content is the secret.
static int leaks(int fd) {
    char buf[256] = { 0 };
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 && strstr(buf, secret) != NULL;
}

static void report(const char *name, int escaped, const char *how) {
    if (escaped) printf("%s=ESCAPED %s\n", name, how);
    else printf("%s=contained\n", name);
    fflush(stdout);
}

static int tryOpen(int dirfd, const char *path) {
    int fd = openat(dirfd, path, O_RDONLY);
    return fd >= 0 && leaks(fd);
}

// "../" repeated, then the marker's path without its leading slash.
static void dotdots(char *out, size_t size, int depth, const char *path) {
    out[0] = 0;
    for (int i = 0; i < depth; i++) strncat(out, "../", size - strlen(out) - 1);
    strncat(out, path + 1, size - strlen(out) - 1);
}

static atomic_int stop;

static void *swapLinks(void *arg) {
    (void)arg;
    // /tmp/race flips between a real directory and a symlink to the marker's directory.
    while (!atomic_load(&stop)) {
        rename("/tmp/race-dir", "/tmp/race");
        rename("/tmp/race", "/tmp/race-dir");
        rename("/tmp/race-link", "/tmp/race");
        rename("/tmp/race", "/tmp/race-link");
    }
    return NULL;
}

static char flipping[4096];
static void *flipBuffer(void *arg) {
    const char *other = arg;
    char saved[4096];
    strcpy(saved, flipping);
    while (!atomic_load(&stop)) {
        strcpy(flipping, other);
        strcpy(flipping, saved);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    marker = argv[1];
    secret = argv[2];
    strcpy(markerDir, marker);
    *strrchr(markerDir, '/') = 0;
    char path[8192];

    dotdots(path, sizeof path, 12, marker);
    report("dotdot-root", tryOpen(AT_FDCWD, path) || (chdir("/") == 0 && tryOpen(AT_FDCWD, path)), path);
    int etc = open("/etc", O_RDONLY | O_DIRECTORY);
    report("dotdot-dirfd", tryOpen(etc, path), path);
    report("absolute-host-path", tryOpen(AT_FDCWD, marker), marker);

    symlink(marker, "/tmp/abs-link");
    dotdots(path, sizeof path, 12, marker);
    symlink(path, "/tmp/rel-link");
    report("symlink-absolute", tryOpen(AT_FDCWD, "/tmp/abs-link"), "/tmp/abs-link");
    report("symlink-relative", tryOpen(AT_FDCWD, "/tmp/rel-link"), "/tmp/rel-link");
    symlink("/etc/shadow", "/tmp/shadow-link");
    struct stat st;
    report("symlink-stat", stat("/tmp/abs-link", &st) == 0, "stat saw the host file");

    char through[8192];
    snprintf(through, sizeof through, "/proc/self/root%s", marker);
    report("proc-self-root", tryOpen(AT_FDCWD, through), through);
    snprintf(through, sizeof through, "/proc/1/root%s", marker);
    report("proc-1-root", tryOpen(AT_FDCWD, through), through);
    dotdots(path, sizeof path, 12, marker);
    snprintf(through, sizeof through, "/proc/self/cwd/%s", path);
    report("proc-self-cwd", tryOpen(AT_FDCWD, through), through);
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    snprintf(through, sizeof through, "/proc/self/fd/%d%s", rootfd, marker);
    report("proc-self-fd", tryOpen(AT_FDCWD, through), through);
    snprintf(through, sizeof through, "/proc/thread-self/root%s", marker);
    report("proc-thread-self-root", tryOpen(AT_FDCWD, through), through);
    char exe[4096] = { 0 };
    readlink("/proc/self/exe", exe, sizeof exe - 1);
    report("proc-self-exe-inside", exe[0] != '/' || strncmp(exe, markerDir, strlen(markerDir)) == 0, exe);

    // An fd the workload does not hold, and one that is no directory.
    errno = 0;
    int bad = openat(987, "etc/passwd", O_RDONLY);
    report("unowned-dirfd", bad >= 0 || errno != EBADF, "openat(987) did not fail with EBADF");
    int pipes[2];
    pipe(pipes);
    bad = openat(pipes[0], "x", O_RDONLY);
    report("pipe-dirfd", bad >= 0 || errno != ENOTDIR, "openat(pipe) did not fail with ENOTDIR");

    // openat2 scoped at a dirfd cannot leave it either.
    struct { unsigned long long flags, mode, resolve; } how = { O_RDONLY, 0, 0x10 /* IN_ROOT */ };
    int in = syscall(SYS_openat2, etc, marker, &how, sizeof how);
    report("openat2-in-root", in >= 0 && leaks(in), "IN_ROOT at /etc");

    // Hard links, sockets and fifos outside.
    report("hardlink-outside", link(marker, "/tmp/hard") == 0 && tryOpen(AT_FDCWD, "/tmp/hard"), "link");
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", markerDir);
    report("unix-socket-outside", bind(sock, (struct sockaddr *)&addr, sizeof addr) == 0 && access(addr.sun_path, F_OK) != 0,
           "bound where the sandbox cannot see");
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/hostsock", markerDir);
    report("unix-connect-outside", connect(client, (struct sockaddr *)&addr, sizeof addr) == 0, "connected to a host socket");
    snprintf(path, sizeof path, "%s/fifo", markerDir);
    report("fifo-outside", mkfifo(path, 0600) == 0 && access(path, F_OK) != 0, "fifo made where the sandbox cannot see");

    // Races: a second thread swaps a directory and a symlink, or rewrites the path buffer.
    mkdir("/tmp/race-dir", 0755);
    symlink(markerDir, "/tmp/race-link");
    const char *name = strrchr(marker, '/') + 1;
    snprintf(path, sizeof path, "/tmp/race/%s", name);
    pthread_t thread;
    atomic_store(&stop, 0);
    pthread_create(&thread, NULL, swapLinks, NULL);
    int escaped = 0;
    for (int i = 0; i < 20000 && !escaped; i++) escaped = tryOpen(AT_FDCWD, path);
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);
    report("symlink-swap-race", escaped, path);

    int ok = open("/tmp/ok", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(ok, "inside", 6);
    close(ok);
    strcpy(flipping, "/tmp/ok");
    atomic_store(&stop, 0);
    pthread_create(&thread, NULL, flipBuffer, (void *)marker);
    escaped = 0;
    int opened = 0;
    for (int i = 0; i < 20000 && !escaped; i++) {
        int fd = open(flipping, O_RDONLY);
        if (fd >= 0) opened++;
        escaped = fd >= 0 && leaks(fd);
    }
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);
    report("path-rewrite-race", escaped || opened == 0, "open of a buffer another thread rewrites");

    strcpy(flipping, "/bin/true");
    snprintf(path, sizeof path, "%s/evil", markerDir);
    atomic_store(&stop, 0);
    pthread_create(&thread, NULL, flipBuffer, path);
    escaped = 0;
    for (int i = 0; i < 300 && !escaped; i++) {
        pid_t child = fork();
        if (child == 0) {
            execl(flipping, flipping, (char *)NULL);
            _exit(errno == ENOENT ? 3 : 4);
        }
        int status;
        waitpid(child, &status, 0);
        escaped = WIFEXITED(status) && WEXITSTATUS(status) == 42;
    }
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);
    report("execve-swap-race", escaped, "exec of a path another thread rewrites");

    // The metadata calls (which --metadata=direct lets the kernel resolve)
    // through the same ways out: none may see the marker, whose path does
    // not exist inside the sandbox.
    char up[8192];
    dotdots(up, sizeof up, 12, marker);
    snprintf(through, sizeof through, "/proc/1/root%s", marker);
    struct statx sx;
    report("stat-ways-out", stat(marker, &st) == 0 || lstat(up, &st) == 0 || fstatat(etc, up, &st, 0) == 0
           || stat(through, &st) == 0 || fstatat(etc, marker, &st, AT_EMPTY_PATH) == 0
           || syscall(SYS_statx, AT_FDCWD, "/tmp/rel-link", 0, STATX_BASIC_STATS, &sx) == 0, "stat found the marker");
    report("access-ways-out", access(marker, F_OK) == 0 || faccessat(etc, up, F_OK, 0) == 0 || access(through, F_OK) == 0
           || syscall(SYS_faccessat2, AT_FDCWD, "/tmp/abs-link", F_OK, AT_EACCESS) == 0, "access found the marker");
    char text[4096] = { 0 };
    ssize_t shown = readlink("/proc/1/root", text, sizeof text - 1);
    report("readlink-proc-root", shown != 1 || text[0] != '/', text);
    memset(text, 0, sizeof text);
    shown = readlinkat(rootfd, "proc/self/cwd", text, sizeof text - 1);
    // The cwd is the sandbox's "/": a longer text would be a host path.
    report("readlink-proc-cwd", shown != 1 || text[0] != '/', text);
    struct statfs fs;
    report("statfs-ways-out", statfs(marker, &fs) == 0 || statfs(up, &fs) == 0, "statfs found the marker");

    // chdir (served by the sentry) out through .. and a magic link, then a relative open.
    report("chdir-out", (chdir("/proc/self/root/../../..") == 0 || chdir("/../..") == 0) && tryOpen(AT_FDCWD, marker + 1),
           "chdir then a relative path");
    chdir("/");
    report("chroot-dotdot", syscall(SYS_chroot, "/tmp") == 0 && tryOpen(AT_FDCWD, "../../../../../etc/passwd") == 0 &&
           tryOpen(AT_FDCWD, marker), "chroot then ..");
    printf("done\n");
    return 0;
}
