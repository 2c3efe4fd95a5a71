// What seccomp user notification would cost here, for the planning of the
// hot emulated calls: a child's getpid answered by its parent through the
// listener fd, without and with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux
// 6.6+), which hands the CPU over instead of waking another one.
// Prints unotify_ns=... unotify_sync_ns=... (sync -1 when the kernel lacks it).
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#define FD_SYNC_WAKE_UP 1

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long measure(int sync, int n) {
    int sv[2], result[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(result)) return -1;
    pid_t child = fork();
    if (child == 0) {
        struct sock_filter code[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog program = { 4, code };
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
        char byte = 0, control[CMSG_SPACE(sizeof(int))];
        struct iovec io = { &byte, 1 };
        struct msghdr msg = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        if (fd < 0 || sendmsg(sv[0], &msg, 0) != 1) _exit(1);
        close(fd);
        if (read(sv[0], &byte, 1) != 1) _exit(1);
        long long start = now();
        for (int i = 0; i < n; i++) syscall(SYS_getpid);
        long long per = (now() - start) / n;
        if (write(result[1], &per, sizeof per) != sizeof per) _exit(1);
        _exit(0);
    }
    char byte, control[CMSG_SPACE(sizeof(int))];
    struct iovec io = { &byte, 1 };
    struct msghdr msg = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    if (recvmsg(sv[1], &msg, 0) != 1) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    __u64 flags = FD_SYNC_WAKE_UP;
    if (sync && ioctl(fd, NOTIF_SET_FLAGS, flags) < 0) { kill(child, 9); waitpid(child, NULL, 0); return -1; }
    if (write(sv[1], "x", 1) != 1) return -1;
    for (int i = 0; i < n; i++) {
        struct seccomp_notif request = { 0 };
        struct seccomp_notif_resp response = { 0 };
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &request) < 0) break;
        response.id = request.id;
        response.val = 1;
        ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &response);
    }
    long long per = -1;
    if (read(result[0], &per, sizeof per) != sizeof per) per = -1;
    waitpid(child, NULL, 0);
    close(fd); close(sv[0]); close(sv[1]); close(result[0]); close(result[1]);
    return per;
}

int main(void) {
    printf("unotify_ns=%lld unotify_sync_ns=%lld\n", measure(0, 20000), measure(1, 20000));
    return 0;
}
