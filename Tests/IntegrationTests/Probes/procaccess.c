// Another process's guarded /proc files need the rights ptrace needs: a
// child that drops to uid 1000 may read its own environ, not its root parent's.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *try_open(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) { close(fd); return "opened"; }
    return strerror(errno);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        if (setgid(1000) != 0 || setuid(1000) != 0) { perror("setuid"); _exit(2); }
        prctl(PR_SET_DUMPABLE, 1);   // setuid made it undumpable: its /proc files would be root's
        char path[64], link[256] = "";
        printf("self environ: %s\n", try_open("/proc/self/environ"));
        snprintf(path, sizeof path, "/proc/%d/environ", parent);
        printf("parent environ: %s\n", try_open(path));
        snprintf(path, sizeof path, "/proc/%d/mem", parent);
        printf("parent mem: %s\n", try_open(path));
        snprintf(path, sizeof path, "/proc/%d/cwd", parent);
        printf("parent cwd link: %s\n", readlink(path, link, sizeof link - 1) >= 0 ? "read" : strerror(errno));
        // openat2 below a dirfd is opened from that fd: checked the same way.
        snprintf(path, sizeof path, "/proc/%d", parent);
        int dir = open(path, O_PATH | O_DIRECTORY);
        struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH };
        int fd = (int)syscall(SYS_openat2, dir, "environ", &how, sizeof how);
        printf("parent environ beneath: %s\n", fd >= 0 ? "opened" : strerror(errno));
        snprintf(path, sizeof path, "/proc/%d/status", parent);
        printf("parent status: %s\n", try_open(path));
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("root reads child-free self: %s\n", try_open("/proc/self/mem"));
    return WEXITSTATUS(status);
}
