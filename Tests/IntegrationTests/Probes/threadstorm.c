// `threadstorm THREADS CALLS [ALIVE]`: THREADS threads (at most ALIVE, 64, at once),
// each making CALLS served calls (getpgid, getsid); prints what every thread saw.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int calls;
static long group, session;

static void *work(void *arg) {
    long wrong = 0;
    for (int i = 0; i < calls; i++) {
        if (syscall(SYS_getpgid, 0) != group) wrong++;
        if (syscall(SYS_getsid, 0) != session) wrong++;
    }
    return (void *)wrong;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1000;
    calls = argc > 2 ? atoi(argv[2]) : 10;
    group = syscall(SYS_getpgid, 0);
    session = syscall(SYS_getsid, 0);
    int wave = argc > 3 ? atoi(argv[3]) : 64;
    pthread_t *running = calloc((size_t)wave, sizeof *running);
    long wrong = 0;
    int started = 0;
    while (started < threads) {
        int n = threads - started < wave ? threads - started : wave;
        for (int i = 0; i < n; i++) {
            if (pthread_create(&running[i], NULL, work, NULL) != 0) { perror("pthread_create"); return 1; }
        }
        for (int i = 0; i < n; i++) {
            void *result;
            pthread_join(running[i], &result);
            wrong += (long)result;
        }
        started += n;
    }
    printf("threads=%d calls=%d wrong=%ld\n", threads, calls * 2, wrong);
    return wrong != 0;
}
