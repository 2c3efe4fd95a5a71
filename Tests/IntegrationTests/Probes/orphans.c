#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
// A non-reaping init: it waits for its own children, whose children (orphans,
// now its own) end later and are never waited for. Prints how many zombies
// are left after a while.
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 5;
    for (int i = 0; i < n; i++) {
        pid_t child = fork();
        if (child == 0) { if (fork() == 0) { usleep(50000); _exit(0); } _exit(0); }
        waitpid(child, NULL, 0);
    }
    sleep(1);
    int zombies = 0;
    FILE *ps = popen("ps -o stat | grep -c Z", "r");
    if (ps && fscanf(ps, "%d", &zombies) == 1) printf("zombies=%d\n", zombies);
    return 0;
}
