// Spins for argv[1] ms of wall time and prints the CPU time it got.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static long long ms(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}
int main(int argc, char **argv) {
    long long wall = argc > 1 ? atoll(argv[1]) : 1000, start = ms(CLOCK_MONOTONIC);
    volatile unsigned long spin = 0;
    while (ms(CLOCK_MONOTONIC) - start < wall) for (int i = 0; i < 100000; i++) spin++;
    printf("cpu_ms=%lld\n", ms(CLOCK_PROCESS_CPUTIME_ID));
    return 0;
}
