// CShims/notify.c: seccomp user notifications: listeners, receiving, answering, donating fds; serving threads' interrupts; fds over sockets.
#ifndef MOAT_NOTIFY_H
#define MOAT_NOTIFY_H

#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

// User notification: one pending call, as the listener reports it.
struct moat_notification {
    uint64_t id;
    uint32_t pid;       // host tid of the calling thread
    int32_t nr;
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t args[6];
};

int moat_receive_listener(int socket);                        // the fd, or -errno

// A message with up to 3 fds (SCM_RIGHTS) over a unix socket; fds[] gets -1
// for missing ones. Return bytes or -errno.
long moat_send_with_fds(int socket, const void *data, size_t length, const int *fds, int count);

// The pid of the process at the other end of a unix socket (SO_PEERCRED), or -errno.
pid_t moat_peer_pid(int sock);

// stdio and a console socket at most: more are closed by the kernel (MSG_CTRUNC).
#define MOAT_MAX_PASSED_FDS 4

long moat_receive_with_fds(int socket, void *data, size_t length, int fds[_Nonnull MOAT_MAX_PASSED_FDS]);
int moat_listener_sync_wake_up(int listener);                 // 0 or -errno (Linux 6.6+)
int moat_notification_receive(int listener, struct moat_notification *out);   // 0 or -errno
int moat_notification_respond(int listener, uint64_t id, int64_t value, int32_t error, int run_on_host);

// Waits until one of the fds is readable (or timeout_ms passes): bit i set for fds[i].
#define MOAT_MAX_POLLED 30

int moat_poll_readable(const int *fds, int count, int timeout_ms);   // bit i: fds[i] is readable
int moat_notification_donate(int listener, uint64_t id, int fd, int cloexec);   // installs it and answers the call with it: the fd, or -errno

// Waits for a call until one comes, or `*attention` is set and the thread
// is sent the interrupt signal (-EINTR; never lost, however close the two).
int moat_notification_receive_interruptible(int listener, struct moat_notification *out, const volatile int *attention);
void moat_raise_attention(volatile int *attention);
void moat_clear_attention(volatile int *attention);
int moat_notification_id_valid(int listener, uint64_t id);    // 1 while the caller still waits for the answer

// Serving threads: a signal that makes a blocked call of the thread fail with EINTR.
void moat_install_interrupt(void);
void moat_accept_interrupt(void);                             // unblocks it in the calling thread
int moat_interrupt_thread(pthread_t thread);
int moat_eventfd(void);                                       // nonblocking, or -errno
void moat_eventfd_signal(int fd);

// Whether poll reports the fd hung up (a listener whose filter no task uses).
int moat_fd_hung_up(int fd);

// A non-blocking signalfd for SIGCHLD, which is blocked for the calling thread.
int moat_sigchld_fd(void);
void moat_drain_fd(int fd);
pid_t moat_wait_nohang(int *status);                          // a tid, 0: nothing ready, or -errno

#pragma clang assume_nonnull end

#endif
