// RLIMIT_FSIZE binds truncate by path as it binds ftruncate: growing a file
// past the limit is EFBIG with SIGXFSZ (ignored here, or fatal in a child).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit limit = { 1000, 1000 };
    setrlimit(RLIMIT_FSIZE, &limit);
    signal(SIGXFSZ, SIG_IGN);
    close(open("/tmp/fsize", O_CREAT | O_WRONLY | O_TRUNC, 0644));
    printf("truncate_grow=%s\n", truncate("/tmp/fsize", 5000) == 0 ? "ok" : strerror(errno));
    printf("truncate_within=%s\n", truncate("/tmp/fsize", 800) == 0 ? "ok" : strerror(errno));
    int fd = open("/tmp/fsize", O_WRONLY);
    printf("ftruncate_grow=%s\n", ftruncate(fd, 5000) == 0 ? "ok" : strerror(errno));
    pid_t child = fork();
    if (child == 0) {
        signal(SIGXFSZ, SIG_DFL);
        truncate("/tmp/fsize", 5000);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child=%s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
    return 0;
}
