// Faults, as the sandbox's init (pid 1) or as its child: `fault MODE`, or
// `fault child MODE` to fault in a forked child and report how it ended.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void handled(int sig) { (void)sig; _exit(3); }

static int fault(const char *mode) {
    if (!strcmp(mode, "segv")) return *(volatile int *)0;
    if (!strcmp(mode, "abort")) abort();
    if (!strcmp(mode, "fpe")) { int zero = 0, one = 1; __asm__ volatile("cltd; idivl %2" : "+a"(one) : "d"(0), "r"(zero)); return one; }
    if (!strcmp(mode, "ill")) __asm__ volatile("ud2");
    if (!strcmp(mode, "handled")) { signal(SIGSEGV, handled); return *(volatile int *)0; }
    if (!strcmp(mode, "blocked")) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        signal(SIGSEGV, handled);
        sigprocmask(SIG_BLOCK, &set, NULL);
        return *(volatile int *)0;
    }
    // kill() of itself is not a fault: an init ignores it and goes on.
    if (!strcmp(mode, "sent")) { kill(getpid(), SIGSEGV); printf("survived a sent SIGSEGV\n"); return 0; }
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && !strcmp(argv[1], "child")) {
        pid_t pid = fork();
        if (pid == 0) _exit(fault(argv[2]));
        int status;
        waitpid(pid, &status, 0);
        printf("child %s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
        return 0;
    }
    printf("pid=%d\n", getpid());
    return argc > 1 ? fault(argv[1]) : 2;
}
