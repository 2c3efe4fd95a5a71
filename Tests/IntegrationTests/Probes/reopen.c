// Reopening through /proc/self/fd/N what no path names any more: a memfd
// and a deleted file, as Linux allows.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void reopen(const char *name, int fd) {
    char path[64], buffer[16] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int again = open(path, O_RDONLY);
    ssize_t n = again >= 0 ? pread(again, buffer, sizeof buffer - 1, 0) : -1;
    printf("%s=%s\n", name, again < 0 ? "failed" : n > 0 ? buffer : "empty");
}

int main(void) {
    int memfd = memfd_create("moat", 0);
    (void)!write(memfd, "memfd-data", 10);
    reopen("memfd", memfd);
    int file = open("/tmp/reopen-me", O_CREAT | O_RDWR | O_TRUNC, 0600);
    (void)!write(file, "file-data", 9);
    unlink("/tmp/reopen-me");
    reopen("deleted", file);
    return 0;
}
