// Reopening through /proc/self/fd/N what no path names any more: a memfd
// and a deleted file, as Linux allows; and a write-sealed memfd, reopened
// too, maps and writes as Linux lets it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <errno.h>
#include <unistd.h>

static void reopen(const char *name, int fd) {
    char path[64], buffer[16] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int again = open(path, O_RDONLY);
    ssize_t n = again >= 0 ? pread(again, buffer, sizeof buffer - 1, 0) : -1;
    printf("%s=%s\n", name, again < 0 ? "failed" : n > 0 ? buffer : "empty");
}

static const char *outcome(int failed) { return failed ? (errno == EPERM ? "EPERM" : errno == EACCES ? "EACCES" : "failed") : "ok"; }

static void sealed(void) {
    int fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    (void)!write(fd, "sealed", 6);
    printf("seal=%s\n", outcome(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) != 0));
    printf("shared_write_map=%s\n", outcome(mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED));
    void *r = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("shared_read_map=%s\n", outcome(r == MAP_FAILED));
    printf("mprotect_write=%s\n", outcome(r == MAP_FAILED || mprotect(r, 4096, PROT_READ | PROT_WRITE) != 0));
    printf("private_write_map=%s\n", outcome(mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED));
    printf("write=%s\n", outcome(write(fd, "x", 1) < 0));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int again = open(path, O_RDWR);
    printf("reopened_write=%s\n", outcome(again < 0 || write(again, "x", 1) < 0));
    printf("reopened_shared_write_map=%s\n", outcome(again < 0 || mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0) == MAP_FAILED));
}

int main(void) {
    int memfd = memfd_create("moat", 0);
    (void)!write(memfd, "memfd-data", 10);
    reopen("memfd", memfd);
    int file = open("/tmp/reopen-me", O_CREAT | O_RDWR | O_TRUNC, 0600);
    (void)!write(file, "file-data", 9);
    unlink("/tmp/reopen-me");
    reopen("deleted", file);
    sealed();
    return 0;
}
