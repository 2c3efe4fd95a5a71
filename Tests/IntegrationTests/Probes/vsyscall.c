// The legacy vsyscall page: its time calls must give the sandbox's clock too.
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
typedef long (*gettimeofday_fn)(struct timeval *, void *);
typedef long (*time_fn)(long *);
int main(int argc, char **argv) {
    // A bad pointer faults as in a real vsyscall: SIGSEGV (the caller dies).
    if (argc > 1) {
        setvbuf(stdout, NULL, _IONBF, 0);
        printf("before\n");
        if (argv[1][0] == 'g') ((gettimeofday_fn)0xffffffffff600000UL)((struct timeval *)8, NULL);
        else ((time_fn)0xffffffffff600400UL)((long *)8);
        printf("survived\n");
        return 0;
    }
    struct timeval tv = { 0 };
    long rc = ((gettimeofday_fn)0xffffffffff600000UL)(&tv, NULL);
    long t = ((time_fn)0xffffffffff600400UL)(NULL);
    printf("vsyscall_gettimeofday=%ld sec=%ld\nvsyscall_time=%ld\n", rc, (long)tv.tv_sec, t);
    return 0;
}
