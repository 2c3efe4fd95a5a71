// A thread rewrites the path while its process execs it: /bin/true and
// /bin/false swap back and forth. The kernel copies the path again after
// the sentry checked it; Moat must kill every exec that ran other bytes
// than the ones checked, before the new program runs. Prints how the
// children ended.
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[16] = "/bin/true";

static void *flip(void *unused) {
    (void)unused;
    volatile char *p = path;
    for (;;) {
        for (int i = 0; i < 10; i++) p[i] = "/bin/false"[i];
        for (int i = 0; i < 10; i++) p[i] = "/bin/true"[i];
    }
    return NULL;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 300;
    int ran = 0, killed = 0, failed = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t child = fork();
        if (child == 0) {
            pthread_t thread;
            pthread_create(&thread, NULL, flip, NULL);
            usleep(50);
            execl(path, "true", (char *)NULL);  // busybox runs its true applet under either name
            _exit(99);
        }
        int status;
        waitpid(child, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) <= 1) ran++;
        else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) killed++;
        else failed++;
    }
    printf("ran %d killed %d failed %d\n", ran, killed, failed);
    return 0;
}
