// Seccomp user notification: the listener the child hands over, and one
// receive/respond pair per call. Also the supervisor's wait for "either a
// notification or a ptrace event" (a SIGCHLD signalfd).
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// Linux 6.6: wake the other side on the current CPU instead of another one.
#define MOAT_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#define MOAT_FD_SYNC_WAKE_UP 1

int moat_receive_listener(int sock) {
    char byte;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec io = { &byte, 1 };
    struct msghdr msg = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (n == 0 || !cm || cm->cmsg_type != SCM_RIGHTS) return -ENOENT;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

int moat_listener_sync_wake_up(int listener) {
    __u64 flags = MOAT_FD_SYNC_WAKE_UP;
    return ioctl(listener, MOAT_NOTIF_SET_FLAGS, flags) < 0 ? -errno : 0;
}

static void copy_notification(const struct seccomp_notif *in, struct moat_notification *out) {
    out->id = in->id;
    out->pid = in->pid;
    out->nr = in->data.nr;
    out->arch = in->data.arch;
    out->instruction_pointer = in->data.instruction_pointer;
    for (int i = 0; i < 6; i++) out->args[i] = in->data.args[i];
}

int moat_notification_receive(int listener, struct moat_notification *out) {
    struct seccomp_notif request;
    memset(&request, 0, sizeof request);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) < 0) return -errno;
    copy_notification(&request, out);
    return 0;
}

int moat_notification_respond(int listener, uint64_t id, int64_t value, int32_t error, int run_on_host) {
    struct seccomp_notif_resp response;
    memset(&response, 0, sizeof response);
    response.id = id;
    response.val = run_on_host ? 0 : value;
    response.error = run_on_host ? 0 : error;
    response.flags = run_on_host ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
    // ENOENT: the caller was interrupted (a signal, or killed) and no longer waits.
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) < 0 ? -errno : 0;
}

int moat_poll_readable(const int *fds, int count, int timeout_ms) {
    struct pollfd polls[MOAT_MAX_POLLED];
    if (count > MOAT_MAX_POLLED) count = MOAT_MAX_POLLED;
    for (int i = 0; i < count; i++) { polls[i].fd = fds[i]; polls[i].events = POLLIN; polls[i].revents = 0; }
    int n;
    do n = poll(polls, (nfds_t)count, timeout_ms); while (n < 0 && errno == EINTR);
    if (n <= 0) return 0;
    int ready = 0;
    for (int i = 0; i < count; i++) if (polls[i].revents) ready |= 1 << i;
    return ready;
}

int moat_sigchld_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

void moat_drain_fd(int fd) {
    char buffer[512];
    while (read(fd, buffer, sizeof buffer) > 0) {}
}

pid_t moat_wait_nohang(int *status) {
    pid_t pid;
    do pid = waitpid(-1, status, __WALL | WNOHANG); while (pid < 0 && errno == EINTR);
    return pid < 0 ? -errno : pid;
}

long moat_send_with_fds(int sock, const void *data, size_t length, const int *fds, int count) {
    char control[CMSG_SPACE(MOAT_MAX_PASSED_FDS * sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec io = { (void *)data, length };
    struct msghdr msg = { .msg_iov = &io, .msg_iovlen = 1 };
    if (count > 0) {
        if (count > MOAT_MAX_PASSED_FDS) count = MOAT_MAX_PASSED_FDS;
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE((size_t)count * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)count * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t)count * sizeof(int));
    }
    // sendmmsg, not sendmsg: the child sends its seccomp listener after
    // loading the filter, where sendmsg comes as a notification, which has
    // no listener yet to hear it; sendmmsg comes as a ptrace stop.
    struct mmsghdr one = { .msg_hdr = msg };
    int n = sendmmsg(sock, &one, 1, MSG_NOSIGNAL);
    return n < 0 ? -errno : (long)one.msg_len;
}

long moat_receive_with_fds(int sock, void *data, size_t length, int fds[MOAT_MAX_PASSED_FDS]) {
    char control[CMSG_SPACE(MOAT_MAX_PASSED_FDS * sizeof(int))];
    struct iovec io = { data, length };
    struct msghdr msg = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    for (int i = 0; i < MOAT_MAX_PASSED_FDS; i++) fds[i] = -1;
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        if (count > MOAT_MAX_PASSED_FDS) count = MOAT_MAX_PASSED_FDS;
        memcpy(fds, CMSG_DATA(cm), count * sizeof(int));
    }
    return n;
}

pid_t moat_peer_pid(int sock) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -errno;
    return credentials.pid;
}

int moat_fd_hung_up(int fd) {
    struct pollfd one = { fd, POLLIN, 0 };
    return poll(&one, 1, 0) == 1 && (one.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

// Installs `fd` (ours) in the waiting caller at its lowest free number and
// completes the call with that number, atomically (SECCOMP_ADDFD_FLAG_SEND,
// Linux 5.14). Returns the number or -errno.
int moat_notification_donate(int listener, uint64_t id, int fd, int cloexec) {
    struct seccomp_notif_addfd add;
    memset(&add, 0, sizeof add);
    add.id = id;
    // Installed and answered at once, in the caller's own context: if a
    // signal interrupts the caller first, nothing is installed (installed
    // first and answered after, an fd the interrupted call never returned
    // stayed in its table). The sentry's copy, still open for a moment
    // after, must not make an exec ETXTBSY: exec waits for it (the Kernel's
    // donations in flight).
    add.flags = SECCOMP_ADDFD_FLAG_SEND;
    add.srcfd = (__u32)fd;
    add.newfd_flags = cloexec ? O_CLOEXEC : 0;
    // Not interruptible: once the request is queued the kernel has marked
    // the call answered, and an EINTR here (the pool's own signal) would
    // leave the caller returning 0. It returns at once: the caller installs
    // the fd, or was interrupted and takes nothing.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc < 0 ? -err : rc;
}

int moat_notification_id_valid(int listener, uint64_t id) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

// A serving thread blocked on a caller's behalf (a FIFO's open) is woken by
// this signal once the caller no longer waits: its handler does nothing and,
// without SA_RESTART, the blocked call fails with EINTR.
// While a thread waits in moat_notification_receive_interruptible: its
// receive buffer, which the handler makes non-zero so that a receive the
// signal came just before fails at once (the kernel checks the buffer is
// zeroed before it waits): no wake-up is lost.
static __thread struct seccomp_notif waiting_buffer;
static __thread volatile sig_atomic_t waiting;

static void interrupted(int sig) {
    (void)sig;
    // `flags` (always 0 out of the kernel): a signal that comes after the
    // receive succeeded, before `waiting` is cleared, spoils nothing used.
    if (waiting) waiting_buffer.flags = 1;
}

static int interrupt_signal(void) { return SIGRTMIN + 4; }

void moat_install_interrupt(void) {
    struct sigaction action = { 0 };
    action.sa_handler = interrupted;
    sigemptyset(&action.sa_mask);
    sigaction(interrupt_signal(), &action, NULL);
}

void moat_accept_interrupt(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, interrupt_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int moat_interrupt_thread(pthread_t thread) {
    return -pthread_kill(thread, interrupt_signal());   // pthread_kill returns the errno itself
}

int moat_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

void moat_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof one);
    (void)n;
}

int moat_notification_receive_interruptible(int listener, struct moat_notification *out, const volatile int *attention) {
    memset(&waiting_buffer, 0, sizeof waiting_buffer);
    waiting = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    int rc = 0;
    if (__atomic_load_n(attention, __ATOMIC_SEQ_CST)) rc = -EINTR;
    else if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &waiting_buffer) < 0) rc = errno == EINVAL ? -EINTR : -errno;
    waiting = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (rc < 0) return rc;
    copy_notification(&waiting_buffer, out);
    return 0;
}

void moat_raise_attention(volatile int *attention) { __atomic_store_n(attention, 1, __ATOMIC_SEQ_CST); }
void moat_clear_attention(volatile int *attention) { __atomic_store_n(attention, 0, __ATOMIC_SEQ_CST); }
