// A daemon that starts as root and drops its effective uid (it becomes
// non-dumpable): calls relative to its dirfd and cwd must still work.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
static void report(const char *name, long result) { printf("%s=%s\n", name, result < 0 ? strerrorname_np(errno) : "ok"); }
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    mkdir("/tmp/w", 0777);
    close(open("/tmp/w/f", O_CREAT | O_WRONLY, 0666));
    chmod("/tmp/w/f", 0666);
    int dir = open("/tmp/w", O_RDONLY | O_DIRECTORY);
    chdir("/tmp/w");
    if (setresuid(-1, 65534, -1) < 0) { perror("setresuid"); return 1; }
    struct stat st;
    report("fstatat_dirfd", fstatat(dir, "f", &st, 0));
    report("stat_relative_cwd", stat("f", &st));
    report("fstatat_empty_path", fstatat(dir, "", &st, AT_EMPTY_PATH));
    report("open_relative", open("f", O_RDONLY));
    report("unlinkat_dirfd_denied", unlinkat(dir, "f", 0));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, "/tmp/w/nosock");
    report("sendto_path", sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a));
    return 0;
}
