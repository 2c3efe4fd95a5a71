// Who the process is after exec (run setuid root to see whether exec may
// raise privileges): effective uid, no_new_privs, permitted capabilities.
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void) {
    char line[256], permitted[64] = "?";
    FILE *status = fopen("/proc/self/status", "r");
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "CapPrm:", 7) == 0) sscanf(line + 7, "%63s", permitted);
    printf("euid=%d nnp=%d capprm=%s\n", (int)geteuid(), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), permitted);
    return 0;
}
