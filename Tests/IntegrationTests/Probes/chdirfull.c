// chdir takes no fd slot on Linux: it works for a process that has used
// every fd its RLIMIT_NOFILE allows, and the limit is what it was after.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(void) {
    struct rlimit limit = { 16, 64 };
    setrlimit(RLIMIT_NOFILE, &limit);
    int opened = 0;
    while (open("/", O_RDONLY) >= 0) opened++;
    int full = errno == EMFILE;
    int moved = chdir("/tmp");
    char cwd[64] = "";
    getcwd(cwd, sizeof cwd);
    struct rlimit after;
    getrlimit(RLIMIT_NOFILE, &after);
    printf("full=%d chdir=%s cwd=%s soft=%lu hard=%lu\n", full, moved == 0 ? "ok" : strerror(errno), cwd,
           (unsigned long)after.rlim_cur, (unsigned long)after.rlim_max);
    return 0;
}
