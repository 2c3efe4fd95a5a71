// A session leader that opens a pty replica without O_NOCTTY gets it as its
// controlling terminal (then TIOCNOTTY gives it up); with O_NOCTTY it does not.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>

static int tty_nr(void) {
    char buffer[512];
    int fd = open("/proc/self/stat", O_RDONLY);
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) return -1;
    buffer[n] = 0;
    char *p = strrchr(buffer, ')');
    int pid, ppid, pgrp, session, tty;
    char state;
    if (!p || sscanf(p + 2, "%c %d %d %d %d", &state, &ppid, &pgrp, &session, &tty) != 5) return -1;
    (void)pid;
    return tty;
}

static void attempt(const char *name, int flags) {
    pid_t child = fork();
    if (child == 0) {
        signal(SIGHUP, SIG_IGN);
        if (setsid() < 0) { printf("%s: setsid %s\n", name, strerror(errno)); _exit(1); }
        int primary = posix_openpt(O_RDWR | O_NOCTTY);
        if (primary < 0 || grantpt(primary) < 0 || unlockpt(primary) < 0) { printf("%s: ptmx %s\n", name, strerror(errno)); _exit(1); }
        int replica = open(ptsname(primary), O_RDWR | flags);
        if (replica < 0) { printf("%s: open %s\n", name, strerror(errno)); _exit(1); }
        int controlling = tty_nr() != 0;
        int rc = ioctl(replica, TIOCNOTTY);
        printf("%s: controlling=%s notty=%s\n", name, controlling ? "yes" : "no", rc < 0 ? strerror(errno) : "ok");
        _exit(0);
    }
    waitpid(child, NULL, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    attempt("ctty", 0);
    attempt("noctty", O_NOCTTY);
    return 0;
}
