// `callrate stat|open PROCESSES MILLISECONDS`: PROCESSES processes each
// loop on stat (or open+read+close) of a file for the given time, started
// together; prints the calls made per second by all of them.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: callrate stat|open PROCESSES MILLISECONDS\n"); return 2; }
    int opens = strcmp(argv[1], "open") == 0, processes = atoi(argv[2]);
    double seconds = atof(argv[3]) / 1000;
    int go[2], results[2];
    if (pipe(go) < 0 || pipe(results) < 0) return 1;
    for (int p = 0; p < processes; p++) {
        if (fork() == 0) {
            char byte;
            close(go[1]);
            if (read(go[0], &byte, 1) != 0) _exit(1);
            long calls = 0, failed = 0;
            struct stat info;
            char buffer[64];
            double end = now() + seconds;
            for (;;) {
                for (int i = 0; i < 64; i++) {
                    if (opens) {
                        int fd = open("/etc/passwd", O_RDONLY);
                        if (fd < 0 || read(fd, buffer, sizeof buffer) < 0) failed = -errno;
                        if (fd >= 0) close(fd);
                    } else if (stat("/etc/passwd", &info) != 0) {
                        failed = -errno;
                    }
                    if (failed) break;
                }
                calls += 64;
                if (failed || now() >= end) break;
            }
            if (failed) calls = failed;  // a failure is reported as -errno
            if (write(results[1], &calls, sizeof calls) != sizeof calls) _exit(1);
            _exit(0);
        }
    }
    close(go[0]);
    double start = now();
    close(go[1]);  // every process starts now
    long total = 0;
    for (int p = 0; p < processes; p++) {
        long calls = 0;
        if (read(results[0], &calls, sizeof calls) != sizeof calls) return 1;
        if (calls < 0) { printf("%s failed: %s\n", argv[1], strerror((int)-calls)); return 1; }
        total += calls;
    }
    double elapsed = now() - start;
    while (wait(NULL) > 0) {}
    printf("%s processes=%d calls=%ld per_second=%.0f\n", argv[1], processes, total, (double)total / elapsed);
    return 0;
}
