// Races against the sentry's exec check, which the kernel's exec must match.
//   execrace N          a thread rewrites the path (/bin/true <-> /bin/false)
//                       while its process execs it: the kernel copies the
//                       path again after the sentry checked it;
//   execrace N run DIR  exec DIR/p1 N times while something else (outside
//                       the sandbox) exchanges DIR/p1 and DIR/p2;
//   execrace exchange DIR   that something: exchanges them until killed.
// Moat must kill every exec that ran other bytes or another file than the
// ones checked, before the new program runs. Prints how the children ended.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[4096] = "/bin/true";

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
    if (argc > 2 && !strcmp(argv[1], "exchange")) {
        char one[4096], two[4096];
        snprintf(one, sizeof one, "%s/p1", argv[2]);
        snprintf(two, sizeof two, "%s/p2", argv[2]);
        for (;;) renameat2(AT_FDCWD, one, AT_FDCWD, two, RENAME_EXCHANGE);
    }
    int rounds = argc > 1 ? atoi(argv[1]) : 300;
    int rewrite = !(argc > 3 && !strcmp(argv[2], "run"));
    if (!rewrite) snprintf(path, sizeof path, "%s/p1", argv[3]);
    int ran = 0, killed = 0, failed = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t child = fork();
        if (child == 0) {
            pthread_t thread;
            if (rewrite) pthread_create(&thread, NULL, flip, NULL);
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
