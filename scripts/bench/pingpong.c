// The floor for any trap-and-answer design on this machine: one byte there
// and back between two processes over pipes, in ns per round trip.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20000, there[2], back[2];
    char c = 0;
    if (pipe(there) || pipe(back)) return 1;
    if (fork() == 0) {
        for (int i = 0; i < n; i++) { if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1) _exit(1); }
        _exit(0);
    }
    long long start = now();
    for (int i = 0; i < n; i++) { if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) return 1; }
    printf("pipe_round_trip_ns=%lld\n", (now() - start) / n);
    wait(NULL);
    return 0;
}
