// Tries to fork N sleeping children; prints how many forks succeeded and how
// many failed with EAGAIN (the pids limit), then cleans up.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20, forked = 0, refused = 0;
    pid_t children[1024];
    for (int i = 0; i < n && i < 1024; i++) {
        pid_t pid = fork();
        if (pid == 0) { pause(); _exit(0); }
        if (pid > 0) children[forked++] = pid;
        else if (errno == EAGAIN) refused++;
    }
    printf("forked=%d refused=%d\n", forked, refused);
    for (int i = 0; i < forked; i++) kill(children[i], SIGKILL);
    while (wait(NULL) > 0) {}
    return 0;
}
