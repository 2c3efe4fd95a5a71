// What the sentry must not lend its caller (the confused deputy): run
// without CAP_SYSLOG, CAP_NET_ADMIN, CAP_AUDIT_READ and CAP_SYS_PTRACE, as
// containers are by default. Prints what the kernel gave for each.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *outcome(int rc) { return rc < 0 ? strerror(errno) : "ok"; }

static void kallsyms(void) {
    FILE *f = fopen("/proc/kallsyms", "r");
    char line[256];
    if (!f || !fgets(line, sizeof line, f)) { printf("kallsyms=%s\n", strerror(errno)); return; }
    printf("kallsyms=%s\n", strspn(line, "0") >= 16 ? "zeros" : "addresses");
    fclose(f);
}

static void netlink(const char *name, int protocol, unsigned groups) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) { printf("%s=socket %s\n", name, strerror(errno)); return; }
    struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = groups };
    printf("%s=%s\n", name, outcome(bind(fd, (struct sockaddr *)&address, sizeof address)));
    close(fd);
}

// A child that waits: dumpable or not, with its capabilities or none.
static pid_t waiting_child(int dumpable) {
    int ready[2];
    if (pipe(ready) < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (!dumpable) prctl(PR_SET_DUMPABLE, 0);
        close(ready[0]);
        close(ready[1]);
        pause();
        _exit(0);
    }
    char byte;
    close(ready[1]);
    (void)!read(ready[0], &byte, 1);
    close(ready[0]);
    return pid;
}

static void mem(const char *name, pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDWR);
    printf("%s=%s\n", name, outcome(fd));
    if (fd >= 0) close(fd);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int drop_all_capabilities(void) {
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    return (int)syscall(SYS_capset, &header, data);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    kallsyms();
    netlink("audit", NETLINK_AUDIT, 1);
    netlink("conntrack", NETLINK_NETFILTER, 1);
    netlink("xfrm", NETLINK_XFRM, 1);
    netlink("route", NETLINK_ROUTE, 1);  // unprivileged: allowed
    mem("mem_same", waiting_child(1));
    mem("mem_nondumpable", waiting_child(0));
    pid_t capable = waiting_child(1);
    if (drop_all_capabilities() < 0) { printf("capset=%s\n", strerror(errno)); return 1; }
    mem("mem_more_capable", capable);
    return 0;
}
