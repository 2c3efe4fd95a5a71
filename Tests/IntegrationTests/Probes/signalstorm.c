// Signals every few microseconds while the sentry serves getpgid (and kill runs):
// no served call may fail (Linux never ends getpgid or kill with EINTR), and
// every signal arrives. Each round waits for its alarm before re-arming the
// timer (setitimer would cancel one not yet fired: a loaded machine's timer
// may fire after a round this short).
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#include <sys/syscall.h>
static volatile int alarms, usr1s;
static void h(int s) { if (s == SIGALRM) alarms++; else usr1s++; }
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main() {
    struct sigaction sa = {0}; sa.sa_handler = h;
    sigaction(SIGUSR1, &sa, 0); sigaction(SIGALRM, &sa, 0);
    int bad = 0, esrch = 0, eintr = 0, other = 0;
    long pid = syscall(SYS_getpid), group = syscall(SYS_getpgid, 0);
    for (int i = 0; i < 20000; i++) {
        struct itimerval it = {{0,0},{0, 1 + i % 10}};
        setitimer(ITIMER_REAL, &it, 0);
        if (syscall(SYS_getpgid, 0) != group) { bad++; if (errno == EINTR) eintr++; else other++; }
        if (syscall(SYS_kill, pid, SIGUSR1) != 0) { bad++; if (errno == ESRCH) esrch++; else if (errno == EINTR) eintr++; else other++; }
        for (long long deadline = now() + 1000000000LL; alarms < i + 1 && now() < deadline;) {}
    }
    printf("failures=%d esrch=%d eintr=%d other=%d handled=%d\n", bad, esrch, eintr, other, alarms + usr1s);
    return 0;
}
