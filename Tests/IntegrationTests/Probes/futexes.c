// FUTEX_WAIT_BITSET without a timeout, 1,000 times (the value differs: EAGAIN
// at once), then 5 times with an absolute CLOCK_MONOTONIC deadline 20 ms
// ahead (the sandbox's clock: it must be shifted to the host's to wait).
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(void) {
    static int word;
    int eagain = 0, timedout = 0, waited = 0;
    for (int i = 0; i < 1000; i++)
        if (syscall(SYS_futex, &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, FUTEX_BITSET_MATCH_ANY) == -1 && errno == EAGAIN) eagain++;
    for (int i = 0; i < 5; i++) {
        long long start = now(), deadline = start + 20000000;
        struct timespec at = { deadline / 1000000000, deadline % 1000000000 };
        long r = syscall(SYS_futex, &word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &at, NULL, FUTEX_BITSET_MATCH_ANY);
        if (r == -1 && errno == ETIMEDOUT) timedout++;
        long long took = now() - start;
        if (took >= 15000000 && took < 1000000000) waited++;
    }
    printf("untimed eagain=%d timed timedout=%d waited=%d\n", eagain, timedout, waited);
    return 0;
}
