// The caller's terminal, relayed to a pty of the sandbox's own: `moat run`
// with process.terminal and no console socket gives the workload a pty from
// the sandbox's devpts (never the caller's terminal, which TIOCSTI could type
// into) and copies bytes both ways on a thread of its own, in raw mode, with
// the caller's window size followed.
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct {
    pthread_t thread;
    int running;
    int master, in, out;
    int saved_valid;
    struct termios saved;
    int stop_pipe[2];
} relay = { .master = -1, .stop_pipe = { -1, -1 } };

static int write_all(int fd, const char *buffer, ssize_t count) {
    while (count > 0) {
        ssize_t n = write(fd, buffer, (size_t)count);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buffer += n;
        count -= n;
    }
    return 0;
}

// The window size of whichever of the caller's fds is a terminal.
static int caller_size(struct winsize *size) {
    return ioctl(relay.in, TIOCGWINSZ, size) == 0 || ioctl(relay.out, TIOCGWINSZ, size) == 0 ? 0 : -1;
}

static void *relay_loop(void *unused) {
    (void)unused;
    char buffer[16384];
    struct winsize last = { 0 }, now;
    if (caller_size(&last) == 0) ioctl(relay.master, TIOCSWINSZ, &last);
    int reading_in = 1, stopping = 0;
    for (;;) {
        struct pollfd fds[3] = {
            { relay.master, POLLIN, 0 }, { reading_in ? relay.in : -1, POLLIN, 0 }, { relay.stop_pipe[0], POLLIN, 0 },
        };
        // A stop request drains what the workload wrote, then ends.
        int ready = poll(fds, 3, stopping ? 50 : 250);
        if (ready < 0 && errno != EINTR) break;
        if (caller_size(&now) == 0 && (now.ws_row != last.ws_row || now.ws_col != last.ws_col)) {
            last = now;
            ioctl(relay.master, TIOCSWINSZ, &now);   // the kernel sends SIGWINCH to the pty's foreground group
        }
        if (ready <= 0) {
            if (stopping) break;
            continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(relay.master, buffer, sizeof buffer);
            if (n > 0) {
                if (write_all(relay.out, buffer, n) < 0) break;
            } else if (n == 0 || errno != EINTR) {
                break;   // EIO: every replica closed, the workload is gone
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(relay.in, buffer, sizeof buffer);
            if (n > 0) {
                if (write_all(relay.master, buffer, n) < 0) reading_in = 0;
            } else if (n == 0 || errno != EINTR) {
                reading_in = 0;   // the caller's input ended; the workload keeps its terminal
            }
        }
        if (fds[2].revents & POLLIN) stopping = 1;
    }
    return NULL;
}

int moat_terminal_relay_start(int master, int in, int out) {
    if (relay.running) return -EBUSY;
    relay.master = master;
    relay.in = in;
    relay.out = out;
    if (pipe2(relay.stop_pipe, O_CLOEXEC) < 0) return -errno;
    relay.saved_valid = tcgetattr(in, &relay.saved) == 0;
    if (relay.saved_valid) {
        struct termios raw = relay.saved;
        cfmakeraw(&raw);
        tcsetattr(in, TCSADRAIN, &raw);
    }
    int rc = pthread_create(&relay.thread, NULL, relay_loop, NULL);
    if (rc != 0) {
        if (relay.saved_valid) tcsetattr(in, TCSADRAIN, &relay.saved);
        return -rc;
    }
    relay.running = 1;
    return 0;
}

void moat_terminal_relay_finish(void) {
    if (!relay.running) return;
    char byte = 1;
    (void)!write(relay.stop_pipe[1], &byte, 1);
    pthread_join(relay.thread, NULL);
    relay.running = 0;
    if (relay.saved_valid) tcsetattr(relay.in, TCSADRAIN, &relay.saved);
    close(relay.master);
    close(relay.stop_pipe[0]);
    close(relay.stop_pipe[1]);
}
