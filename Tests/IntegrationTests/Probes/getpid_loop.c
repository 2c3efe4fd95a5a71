// ns per call for getpid (trapped) and a passthrough call, for scripts/bench-boot.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static long long now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    long long start = now();
    for (long i = 0; i < n; i++) syscall(SYS_getpid);
    long long mid = now();
    for (long i = 0; i < n; i++) syscall(SYS_getuid);
    long long end = now();
    printf("getpid_ns=%lld getuid_ns=%lld\n", (mid - start) / n, (end - mid) / n);
    return 0;
}
