// execve and execveat as the kernel defines them: scripts and their
// interpreters, descriptors, errors. Each case runs in a child; the output
// must be the same in Moat as in a chroot of the same rootfs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) { perror(path); exit(1); }
    close(fd);
    chmod(path, mode);
}

static long execat(int dirfd, const char *path, char *const argv[], int flags) {
    return syscall(SYS_execveat, dirfd, path, argv, environ, flags);
}

static int cases;

// Runs `body` in a child and prints how it ended: its errno name if exec failed.
static void run(const char *name, void (*body)(void)) {
    cases++;
    printf("%s: ", name);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        body();
        printf("failed %s\n", strerrorname_np(errno));
        fflush(stdout);
        _exit(100);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 100) printf("[exit %d]\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf("[signal %d]\n", WTERMSIG(status));
    fflush(stdout);
}

static void script_args(void) { execl("/tmp/x/args.sh", "zero", "one", "two words", (char *)NULL); }
static void script_relative(void) { chdir("/tmp/x"); execl("./args.sh", "zero", "rel", (char *)NULL); }
static void script_option(void) { execl("/tmp/x/opt.sh", "zero", "a", (char *)NULL); }
static void script_nested(void) { execl("/tmp/x/nested.sh", "zero", "n", (char *)NULL); }
static void script_deep(void) { execl("/tmp/x/deep0", "zero", (char *)NULL); }
static void script_ok_depth(void) { execl("/tmp/x/deep2", "zero", (char *)NULL); }
static void script_too_deep(void) { execl("/tmp/x/deep1", "zero", (char *)NULL); }
static void script_missing(void) { execl("/tmp/x/missing.sh", "zero", (char *)NULL); }
static void script_relative_interp(void) { chdir("/"); execl("/tmp/x/relinterp.sh", "zero", (char *)NULL); }
static void script_relative_interp_elsewhere(void) { chdir("/tmp"); execl("/tmp/x/relinterp.sh", "zero", (char *)NULL); }
static void binary_at_dirfd(void) {
    int dir = open("/bin", O_PATH | O_DIRECTORY);
    char *argv[] = { "echo", "at a dirfd", NULL };
    execat(dir, "echo", argv, 0);
}
static void script_at_cloexec_dirfd(void) {
    int dir = open("/tmp/x", O_PATH | O_DIRECTORY | O_CLOEXEC);
    char *argv[] = { "zero", NULL };
    execat(dir, "args.sh", argv, 0);
}
static void binary_at_fd(void) {
    int fd = open("/bin/busybox", O_PATH | O_CLOEXEC);
    char *argv[] = { "echo", "from an fd", NULL };
    execat(fd, "", argv, AT_EMPTY_PATH);
}
static void binary_from_memfd(void) {
    int in = open("/bin/busybox", O_RDONLY), out = memfd_create("copy", MFD_CLOEXEC);
    char buffer[65536];
    ssize_t n;
    while ((n = read(in, buffer, sizeof buffer)) > 0) write(out, buffer, (size_t)n);
    char *argv[] = { "echo", "from a memfd", NULL };
    fexecve(out, argv, environ);
}
static void symlink_nofollow(void) {
    char *argv[] = { "true", NULL };
    execat(AT_FDCWD, "/tmp/x/link", argv, AT_SYMLINK_NOFOLLOW);
}
static void symlink_followed(void) { execl("/tmp/x/link", "link", (char *)NULL); }
static void comm_of_symlink(void) { execl("/bin/cat", "cat", "/proc/self/comm", (char *)NULL); }
static void comm_of_script(void) { execl("/tmp/x/comm.sh", "zero", (char *)NULL); }
static void directory(void) { execl("/tmp", "tmp", (char *)NULL); }
static void not_executable(void) { execl("/tmp/x/plain", "plain", (char *)NULL); }
static void garbage(void) { execl("/tmp/x/garbage", "garbage", (char *)NULL); }
static void empty_path(void) { execl("", "", (char *)NULL); }
static void trailing_slash(void) { execl("/bin/true/", "true", (char *)NULL); }
static void bad_flags(void) {
    char *argv[] = { "true", NULL };
    execat(AT_FDCWD, "/bin/true", argv, 0x4);
}
static void long_line(void) { execl("/tmp/x/long.sh", "zero", (char *)NULL); }
static void no_newline(void) { execl("/tmp/x/nonl.sh", "zero", (char *)NULL); }

int main(void) {
    mkdir("/tmp/x", 0755);
    file("/tmp/x/args.sh", "#!/bin/sh\necho \"0=$0\" \"$@\"\n", 0755);
    file("/tmp/x/opt.sh", "#! /bin/sh  -eu \necho opt \"$0\" \"$1\" $-\n", 0755);
    file("/tmp/x/nested.sh", "#!/tmp/x/args.sh inner\nignored\n", 0755);
    file("/tmp/x/missing.sh", "#!/nonexistent/sh\n", 0755);
    file("/tmp/x/relinterp.sh", "#!bin/sh\necho relative interpreter\n", 0755);
    file("/tmp/x/comm.sh", "#!/bin/sh\ncat /proc/$$/comm\n", 0755);
    file("/tmp/x/plain", "#!/bin/sh\n", 0644);
    file("/tmp/x/garbage", "\x01\x02\x03 not a program\n", 0755);
    file("/tmp/x/nonl.sh", "#!/bin/echo", 0755);
    char long_script[400] = "#!/bin/echo ";
    memset(long_script + 12, 'y', 300);
    file("/tmp/x/long.sh", long_script, 0755);
    // A chain of interpreters: deepN runs deepN+1; deep6 is /bin/sh's script.
    for (int i = 0; i <= 6; i++) {
        char path[64], text[128];
        snprintf(path, sizeof path, "/tmp/x/deep%d", i);
        if (i < 6) snprintf(text, sizeof text, "#!/tmp/x/deep%d\n", i + 1);
        else snprintf(text, sizeof text, "#!/bin/sh\n");
        file(path, text, 0755);
    }
    symlink("/bin/true", "/tmp/x/link");

    run("script args", script_args);
    run("script relative", script_relative);
    run("script option", script_option);
    run("script nested", script_nested);
    run("script seven deep", script_deep);
    run("script six deep", script_too_deep);
    run("script five deep", script_ok_depth);
    run("script missing interpreter", script_missing);
    run("script relative interpreter", script_relative_interp);
    run("script relative interpreter elsewhere", script_relative_interp_elsewhere);
    run("binary at dirfd", binary_at_dirfd);
    run("script at cloexec dirfd", script_at_cloexec_dirfd);
    run("binary at fd", binary_at_fd);
    run("binary from memfd", binary_from_memfd);
    run("symlink nofollow", symlink_nofollow);
    run("symlink followed", symlink_followed);
    run("comm of a symlink", comm_of_symlink);
    run("comm of a script", comm_of_script);
    run("directory", directory);
    run("not executable", not_executable);
    run("garbage", garbage);
    run("empty path", empty_path);
    run("trailing slash", trailing_slash);
    run("bad flags", bad_flags);
    run("long line", long_line);
    run("no newline", no_newline);
    printf("cases %d\n", cases);
    return 0;
}
