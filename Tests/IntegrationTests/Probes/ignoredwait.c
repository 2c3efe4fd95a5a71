// sigtimedwait for a signal that is ignored (and not blocked): Linux drops
// the signal when it is sent, so the wait times out (EAGAIN) even if the
// signal comes while it waits. A blocked one is returned.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static void wait_for(const char *name, int block) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    signal(SIGUSR1, SIG_IGN);
    sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        sleep_ms(100);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    struct timespec timeout = { 1, 0 };
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = sigtimedwait(&set, NULL, &timeout);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double waited = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%s=%s waited_full=%s\n", name, rc < 0 ? strerror(errno) : (rc == SIGUSR1 ? "SIGUSR1" : "other"),
           waited >= 0.9 ? "yes" : "no");
    waitpid(child, NULL, 0);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    wait_for("ignored", 0);
    wait_for("blocked", 1);
    return 0;
}
