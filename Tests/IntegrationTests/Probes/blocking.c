// Socket calls that wait on another process wait, as on Linux, and the
// sandbox is served meanwhile.
// `blocking connect`: a blocking unix connect to a full backlog waits until
// the server accepts. `blocking send`: a blocking sendto a unix datagram
// path whose receiver's queue is full waits until it reads (a nonblocking
// one is EAGAIN).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static struct sockaddr_un address(const char *path) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, path);
    return a;
}

// The child's answer arrives on `done` only once its call returned.
static int returned_within(int done, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        char byte;
        if (read(done, &byte, 1) == 1) return 1;
        sleep_ms(10);
    }
    return 0;
}

static int connects(void) {
    struct sockaddr_un a = address("/tmp/blocking.stream");
    unlink(a.sun_path);
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(server, (struct sockaddr *)&a, sizeof a) < 0 || listen(server, 0) < 0) { perror("server"); return 1; }
    // Fill the backlog with nonblocking connects.
    int queued = 0;
    for (; queued < 64; queued++) {
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) {
            printf("nonblocking=%s\n", strerror(errno));
            close(c);
            break;
        }
    }
    int done[2];
    if (pipe2(done, O_NONBLOCK) < 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int rc = connect(c, (struct sockaddr *)&a, sizeof a);
        printf("connect=%s\n", rc < 0 ? strerror(errno) : "ok");
        (void)!write(done[1], "x", 1);
        _exit(0);
    }
    printf("waited=%s\n", returned_within(done[0], 300) ? "no" : "yes");
    // The server accepts: the waiting connect completes.
    for (int i = 0; i <= queued; i++) {
        int accepted = accept(server, NULL, NULL);
        if (accepted < 0) break;
    }
    printf("returned=%s\n", returned_within(done[0], 5000) ? "yes" : "no");
    waitpid(child, NULL, 0);
    return 0;
}

static int sends(void) {
    struct sockaddr_un a = address("/tmp/blocking.dgram");
    unlink(a.sun_path);
    int server = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bind(server, (struct sockaddr *)&a, sizeof a) < 0) { perror("server"); return 1; }
    int client = socket(AF_UNIX, SOCK_DGRAM, 0);
    char payload[1024] = { 0 };
    int sent = 0;
    for (; sent < 100000; sent++) {
        if (sendto(client, payload, sizeof payload, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof a) < 0) {
            printf("nonblocking=%s\n", strerror(errno));
            break;
        }
    }
    int done[2];
    if (pipe2(done, O_NONBLOCK) < 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        ssize_t rc = sendto(client, payload, sizeof payload, 0, (struct sockaddr *)&a, sizeof a);
        printf("send=%s\n", rc < 0 ? strerror(errno) : "ok");
        (void)!write(done[1], "x", 1);
        _exit(0);
    }
    printf("waited=%s\n", returned_within(done[0], 300) ? "no" : "yes");
    char buffer[2048];
    for (int i = 0; i <= sent; i++) {
        if (recv(server, buffer, sizeof buffer, MSG_DONTWAIT) < 0) break;
    }
    printf("returned=%s\n", returned_within(done[0], 5000) ? "yes" : "no");
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "connect") == 0) return connects();
    if (argc > 1 && strcmp(argv[1], "send") == 0) return sends();
    fprintf(stderr, "usage: blocking connect|send\n");
    return 2;
}
