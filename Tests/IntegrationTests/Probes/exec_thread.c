// execve from a thread that is not the leader: the new image takes over the
// process (and the leader's pid), and the sentry keeps serving it.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *run(void *arg) {
    (void)arg;
    char *argv[] = { "sh", "-c", "echo after exec pid=$$; sleep 0.1; echo still served pid=$(sh -c 'echo $PPID')", NULL };
    char *envp[] = { "PATH=/bin", NULL };
    execve("/bin/sh", argv, envp);
    perror("execve");
    return NULL;
}
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("before exec pid=%d\n", getpid());
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, i == 2 ? run : (void *(*)(void *))pause, NULL);
    for (;;) pause();
}
