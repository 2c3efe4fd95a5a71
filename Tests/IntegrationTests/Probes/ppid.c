// getppid from a loop (its cost, printed, not asserted) and across a
// reparenting: a grandchild's parent exits and the init adopts it.
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    long long start = now(); long p = 0;
    for (int i = 0; i < 20000; i++) p += syscall(SYS_getppid);
    long long mid = now();
    printf("getppid_ns=%lld ppid=%ld\n", (mid - start) / 20000, p / 20000);
    pid_t middle = fork();
    if (middle == 0) {
        pid_t child = fork();
        if (child == 0) {
            printf("before=%ld\n", (long)getppid());
            sleep(1);   // the middle process exits meanwhile: reparented to the init
            printf("after=%ld\n", (long)getppid());
            _exit(0);
        }
        usleep(200000);
        _exit(0);
    }
    waitpid(middle, NULL, 0);
    sleep(2);
    return 0;
}
