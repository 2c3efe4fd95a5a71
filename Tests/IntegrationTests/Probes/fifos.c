// Calls that wait on another sandbox process wait on their own.
// `fifos pair`: a reader and a writer open one FIFO from two processes;
// then truncate of the FIFO fails at once.
// `fifos blocked`: children block forever in a FIFO's open; meanwhile another
// process makes served calls, then the blocked ones end by a signal handler,
// by SIGTERM and by SIGKILL, and the FIFO has no reader left behind.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static void leave(int sig) { (void)sig; _exit(7); }

// A child that blocks in open(fifo, O_RDONLY) until something ends it.
static pid_t blocked_reader(const char *fifo, int with_handler) {
    pid_t pid = fork();
    if (pid == 0) {
        if (with_handler) {
            struct sigaction action = { .sa_handler = leave };
            sigaction(SIGUSR1, &action, NULL);
        }
        int fd = open(fifo, O_RDONLY);
        printf("unexpected open=%d\n", fd);
        _exit(1);
    }
    return pid;
}

// Whether a process is asleep (in the kernel or waiting for the sentry).
static int sleeping(pid_t pid) {
    char path[64], buffer[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) return 0;
    buffer[n] = 0;
    char *state = strrchr(buffer, ')');
    return state && state[2] == 'S';
}

static void describe(const char *what, int status) {
    if (WIFEXITED(status)) printf("%s=exit %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf("%s=signal %d\n", what, WTERMSIG(status));
    else printf("%s=status %d\n", what, status);
}

static int pair(void) {
    const char *fifo = "/tmp/fifos.pair";
    unlink(fifo);
    if (mkfifo(fifo, 0600) < 0) { perror("mkfifo"); return 1; }
    pid_t reader = fork();
    if (reader == 0) {
        char buffer[16] = { 0 };
        int fd = open(fifo, O_RDONLY);
        ssize_t n = fd < 0 ? -1 : read(fd, buffer, sizeof buffer - 1);
        printf("read=%s\n", n > 0 ? buffer : strerror(errno));
        fflush(stdout);
        _exit(0);
    }
    sleep_ms(50);
    int fd = open(fifo, O_WRONLY);
    if (fd < 0 || write(fd, "hi", 2) != 2) { perror("writer"); return 1; }
    close(fd);
    int status;
    waitpid(reader, &status, 0);
    describe("reader", status);
    // truncate names a FIFO without a reader: EINVAL at once, as on Linux, never an open that waits.
    printf("truncate=%s\n", truncate(fifo, 0) < 0 ? strerror(errno) : "ok");
    return 0;
}

static int blocked(void) {
    const char *fifo = "/tmp/fifos.blocked";
    unlink(fifo);
    if (mkfifo(fifo, 0600) < 0) { perror("mkfifo"); return 1; }
    pid_t handled = blocked_reader(fifo, 1), termed = blocked_reader(fifo, 0), killed = blocked_reader(fifo, 0);
    for (int i = 0; i < 200 && !(sleeping(handled) && sleeping(termed) && sleeping(killed)); i++) sleep_ms(10);
    sleep_ms(100);
    // The rest of the sandbox keeps being served meanwhile.
    pid_t worker = fork();
    if (worker == 0) {
        struct stat info;
        for (int i = 0; i < 2000; i++) {
            if (stat("/bin", &info) != 0 || getppid() <= 0) _exit(2);
            int fd = open("/etc/passwd", O_RDONLY);
            if (fd < 0) _exit(3);
            close(fd);
        }
        _exit(0);
    }
    int status;
    waitpid(worker, &status, 0);
    describe("worker", status);
    kill(handled, SIGUSR1);
    kill(termed, SIGTERM);
    kill(killed, SIGKILL);
    waitpid(handled, &status, 0);
    describe("handled", status);
    waitpid(termed, &status, 0);
    describe("termed", status);
    waitpid(killed, &status, 0);
    describe("killed", status);
    // No reader is left: a nonblocking writer finds none (ENXIO), as on Linux.
    int fd = -1;
    for (int i = 0; i < 100; i++) {
        fd = open(fifo, O_WRONLY | O_NONBLOCK);
        if (fd < 0) break;
        close(fd);
        sleep_ms(10);
    }
    printf("writer=%s\n", fd < 0 ? strerror(errno) : "found a reader");
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "pair") == 0) return pair();
    if (argc > 1 && strcmp(argv[1], "blocked") == 0) return blocked();
    fprintf(stderr, "usage: fifos pair|blocked\n");
    return 2;
}
