// Pids as the workload sees them: itself, a child, signals, threads.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *thread_main(void *arg) {
    (void)arg;
    printf("thread pid=%d tid=%ld\n", getpid(), (long)syscall(SYS_gettid));
    fflush(stdout);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("pid=%d ppid=%d tid=%ld\n", getpid(), getppid(), (long)syscall(SYS_gettid));

    pid_t child = fork();
    if (child == 0) {
        printf("child pid=%d ppid=%d\n", getpid(), getppid());
        _exit(7);
    }
    int status = 0;
    pid_t waited = wait4(child, &status, 0, NULL);
    printf("fork=%d wait=%d exit=%d\n", child, waited, WEXITSTATUS(status));

    pid_t sleeper = fork();
    if (sleeper == 0) { pause(); _exit(0); }
    usleep(50000);
    int rc = kill(sleeper, SIGTERM);
    waited = waitpid(sleeper, &status, 0);
    printf("kill=%d signaled=%d sig=%d\n", rc, WIFSIGNALED(status), WTERMSIG(status));

    errno = 0;
    rc = kill(4242, 0);
    printf("kill_missing=%d errno=%s\n", rc, errno == ESRCH ? "ESRCH" : "other");
    errno = 0;
    rc = waitpid(4242, &status, 0);
    printf("wait_missing=%d errno=%s\n", rc, errno == ECHILD ? "ECHILD" : "other");

    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, thread_main, NULL);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    printf("pgid=%d sid=%d\n", getpgid(0), getsid(0));
    return 0;
}
