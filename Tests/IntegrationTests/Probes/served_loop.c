// `served_loop [N]`: ns per call for a served call (getpgid: the sentry checks
// the pid, then the kernel answers) and a passthrough call (getuid), and the
// caller's pid. For scripts/bench-boot, and as served calls in tests.
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
    for (long i = 0; i < n; i++) syscall(SYS_getpgid, 0);
    long long mid = now();
    for (long i = 0; i < n; i++) syscall(SYS_getuid);
    long long end = now();
    printf("served_ns=%lld getuid_ns=%lld pid=%ld\n", (mid - start) / n, (end - mid) / n, syscall(SYS_getpid));
    return 0;
}
