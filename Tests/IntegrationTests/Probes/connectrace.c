// A thread rewrites a unix socket path (DIR/a.sock <-> DIR/b.sock, two
// bound datagram sockets) while its process connects to it, again and
// again: the kernel copies the path again after the sentry checked it, so
// Moat compares the file the peer is bound to with the one checked and
// kills the process when they differ ("plain": nobody rewrites, nothing
// may be killed). Prints how the children ended.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_un target = { .sun_family = AF_UNIX };
static size_t letter;   // where a or b is in the path

static void *flip(void *unused) {
    (void)unused;
    volatile char *p = target.sun_path;
    for (;;) { p[letter] = 'b'; p[letter] = 'a'; }
    return NULL;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    const char *directory = argc > 2 ? argv[2] : "/tmp";   // a.sock and b.sock go there
    int plain = argc > 3 && !strcmp(argv[3], "plain");      // no rewriting thread
    snprintf(target.sun_path, sizeof target.sun_path, "%s/a.sock", directory);
    letter = strlen(directory) + 1;
    for (const char *name = "ab"; *name; name++) {
        struct sockaddr_un bound = { .sun_family = AF_UNIX };
        snprintf(bound.sun_path, sizeof bound.sun_path, "%s/%c.sock", directory, *name);
        unlink(bound.sun_path);
        if (bind(socket(AF_UNIX, SOCK_DGRAM, 0), (struct sockaddr *)&bound, sizeof bound) != 0) { perror("bind"); return 1; }
    }
    int finished = 0, killed = 0, failed = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t child = fork();
        if (child == 0) {
            pthread_t thread;
            if (!plain) pthread_create(&thread, NULL, flip, NULL);
            int sock = socket(AF_UNIX, SOCK_DGRAM, 0);
            for (int j = 0; j < 3; j++)
                if (connect(sock, (struct sockaddr *)&target, sizeof target) != 0) _exit(2);
            _exit(0);
        }
        int status;
        waitpid(child, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) finished++;
        else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) killed++;
        else failed++;
    }
    printf("finished %d killed %d failed %d\n", finished, killed, failed);
    return 0;
}
