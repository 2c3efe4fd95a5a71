#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Nanoseconds per iteration of `body`, run `n` times.
#define COST(n, body) ({ long long start_ = now(); for (int i_ = 0; i_ < (n); i_++) { body; } (now() - start_) / (n); })

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "true")) return 0;
    if (!strcmp(argv[1], "first")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        printf("%lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
        return 0;
    }
    if (!strcmp(argv[1], "sleep") && argc > 2) {
        struct timespec ts = { atoi(argv[2]), 0 };
        nanosleep(&ts, NULL);
        return 0;
    }
    if (!strcmp(argv[1], "cost") && argc > 2) {
        if (chdir(argv[2]) != 0) return 3;
        const char *path = "data";
        char buf[64];
        struct stat st;
        struct timespec ts;
        long long getpgid_ns = COST(20000, syscall(SYS_getpgid, 0));
        long long getuid_ns = COST(200000, syscall(SYS_getuid));
        long long clock_ns = COST(20000, clock_gettime(CLOCK_MONOTONIC, &ts));
        long long open_ns = COST(5000, { int fd = open(path, O_RDONLY); read(fd, buf, sizeof buf); close(fd); });
        long long stat_ns = COST(10000, stat(path, &st));
        long long fork_ns = COST(200, { pid_t p = fork(); if (p == 0) _exit(0); waitpid(p, NULL, 0); });
        printf("getpgid=%lld getuid=%lld clock_gettime=%lld open_read_close=%lld stat=%lld fork_wait=%lld\n",
               getpgid_ns, getuid_ns, clock_ns, open_ns, stat_ns, fork_ns);
        return 0;
    }
    fprintf(stderr, "usage: benchprobe true|first|sleep S|cost DIR\n");
    return 2;
}
