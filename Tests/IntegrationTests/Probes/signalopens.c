// Opens (and closes) a file 20,000 times while a child signals it every
// 50 µs (a handler with SA_RESTART, as Go's preemption signals come): no
// open may leave an fd behind, and none may fail or return 0.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void handler(int signal) { (void)signal; }

int main(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &action, NULL);
    pid_t parent = getpid(), child = fork();
    if (child == 0) for (;;) { kill(parent, SIGUSR1); usleep(50); }
    int failed = 0, zero = 0;
    for (int i = 0; i < 20000; i++) {
        int fd = open("/tmp/signalopens", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) failed++;
        else if (fd == 0) zero++;
        else close(fd);
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    int open_fds = -1;  // the directory's own
    DIR *fds = opendir("/proc/self/fd");
    for (struct dirent *entry; (entry = readdir(fds)); ) if (entry->d_name[0] != '.') open_fds++;
    closedir(fds);
    printf("fds=%d failed=%d zero=%d\n", open_fds, failed, zero);
    return 0;
}
