// Ways around the syscall table; each must be refused or killed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long int80_getpid(void) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");  // i386 getpid
    return ret;
}

static void *int80_thread(void *arg) { (void)arg; int80_getpid(); return NULL; }

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "int80")) {
        printf("before\n");
        printf("int80 returned %ld\n", int80_getpid());
    } else if (!strcmp(mode, "int80-thread")) {
        pthread_t t;
        printf("before\n");
        pthread_create(&t, NULL, int80_thread, NULL);
        pthread_join(t, NULL);
        sleep(1);
        printf("process survived\n");
    } else if (!strcmp(mode, "tgkill") && argc > 2) {
        // A host pid (and it as a tid): no such process in the sandbox's namespace.
        long pid = atol(argv[2]);
        long r = syscall(SYS_tkill, pid, SIGKILL);
        printf("tkill=%ld %s\n", r, r ? strerror(errno) : "");
        r = syscall(SYS_tgkill, pid, pid, SIGKILL);
        printf("tgkill=%ld %s\n", r, r ? strerror(errno) : "");
    } else if (!strcmp(mode, "x32")) {
        printf("before\n");
        long r = syscall(0x40000000 | 39);
        printf("x32 returned %ld\n", r);
    } else if (!strcmp(mode, "clone-flags")) {
        // A child the tracer does not trace would make its calls without the
        // sentry: a call served at a ptrace stop (connect) fails with ENOSYS there.
        static const struct { const char *name; long flags; } cases[] = {
            { "untraced", 0x00800000 }, { "ptrace", 0x00002000 }, { "plain", 0 },
        };
        for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            errno = 0;
            long r = syscall(SYS_clone, cases[i].flags | SIGCHLD, 0, 0, 0, 0);
            if (r == 0) {
                int s = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(1) };
                to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                _exit(connect(s, (struct sockaddr *)&to, sizeof to) == 0 ? 0 : errno);
            }
            if (r < 0) {
                printf("%s=refused:%s\n", cases[i].name, errno == EPERM ? "EPERM" : strerror(errno));
                continue;
            }
            int status = 0;
            waitpid(r, &status, 0);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            printf("%s=child_connect:%s\n", cases[i].name, code == ECONNREFUSED ? "ECONNREFUSED" : code == ENOSYS ? "ENOSYS" : code < 0 ? "signalled" : strerror(code));
        }
    } else if (!strcmp(mode, "tty-injection")) {
        // A pty of its own, as its controlling terminal: the kernel itself
        // would let TIOCSTI push input into it. The filter refuses the
        // requests that type into a terminal, with or without high bits.
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) || unlockpt(master)) { printf("no pty: %s\n", strerror(errno)); return 1; }
        setsid();
        int replica = open(ptsname(master), O_RDWR);
        if (replica < 0 || ioctl(replica, TIOCSCTTY, 0) < 0) { printf("no controlling tty: %s\n", strerror(errno)); return 1; }
        char c = 'x';
        static const struct { const char *name; unsigned long request; } requests[] = {
            { "TIOCSTI", TIOCSTI }, { "TIOCSTI_high_bits", 0xffffffff00000000UL | TIOCSTI },
            { "TIOCLINUX", TIOCLINUX }, { "TIOCSETD", TIOCSETD },
        };
        for (unsigned i = 0; i < sizeof requests / sizeof requests[0]; i++) {
            errno = 0;
            long r = syscall(SYS_ioctl, replica, requests[i].request, &c);
            printf("%s=%s\n", requests[i].name, r == 0 ? "ran" : errno == EPERM ? "EPERM" : strerror(errno));
        }
        struct termios t;
        int size = 0;
        printf("TCGETS=%s FIONREAD=%s\n", ioctl(replica, TCGETS, &t) == 0 ? "ran" : strerror(errno),
               ioctl(master, FIONREAD, &size) == 0 ? "ran" : strerror(errno));
    } else if (!strcmp(mode, "refused")) {
        errno = 0;
        long r = syscall(1000);
        printf("unknown=%ld %s\n", r, strerror(errno));
        errno = 0;
        r = mount("none", "/tmp", "tmpfs", 0, NULL);
        printf("mount=%ld %s\n", r, strerror(errno));
        errno = 0;
        r = syscall(SYS_unshare, 0x20000000);
        printf("unshare=%ld %s\n", r, strerror(errno));
        errno = 0;
        r = syscall(SYS_clone, 0x10000000 | 17, 0, 0, 0, 0);  // CLONE_NEWUSER|SIGCHLD
        printf("clone_newuser=%ld %s\n", r, strerror(errno));
        errno = 0;
        r = syscall(SYS_ptrace, 0, 0, 0, 0);
        printf("ptrace=%ld %s\n", r, strerror(errno));
        // The rest of the kernel surface a sandbox must not reach.
        static const struct { const char *name; long nr; long a, b, c; } calls[] = {
            { "open_by_handle_at", SYS_open_by_handle_at, AT_FDCWD, 0, 0 },
            { "bpf", SYS_bpf, 0, 0, 0 },
            { "perf_event_open", SYS_perf_event_open, 0, 0, -1 },
            { "keyctl", SYS_keyctl, 0, 0, 0 },
            { "add_key", SYS_add_key, 0, 0, 0 },
            { "userfaultfd", SYS_userfaultfd, 0, 0, 0 },
            { "setns", SYS_setns, 0, 0, 0 },
            { "pivot_root", SYS_pivot_root, 0, 0, 0 },
            { "chroot", SYS_chroot, 0, 0, 0 },
            { "umount2", SYS_umount2, 0, 0, 0 },
            { "process_vm_writev", SYS_process_vm_writev, 1, 0, 0 },
            { "kcmp", SYS_kcmp, 1, 1, 0 },
            { "init_module", SYS_init_module, 0, 0, 0 },
            { "kexec_load", SYS_kexec_load, 0, 0, 0 },
            { "iopl", SYS_iopl, 3, 0, 0 },
            { "ioperm", SYS_ioperm, 0, 1, 1 },
            { "modify_ldt", SYS_modify_ldt, 0, 0, 0 },
            { "reboot", SYS_reboot, 0, 0, 0 },
            { "swapon", SYS_swapon, 0, 0, 0 },
            { "settimeofday", SYS_settimeofday, 0, 0, 0 },
            { "clock_settime", SYS_clock_settime, 0, 0, 0 },
            { "io_uring_setup", SYS_io_uring_setup, 1, 0, 0 },
            { "fsopen", SYS_fsopen, 0, 0, 0 },
            { "open_tree", SYS_open_tree, AT_FDCWD, 0, 0 },
            { "move_mount", SYS_move_mount, 0, 0, 0 },
            { "clone3", SYS_clone3, 0, 0, 0 },
            { "syscall_9999", 9999, 0, 0, 0 },
        };
        for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
            errno = 0;
            r = syscall(calls[i].nr, calls[i].a, calls[i].b, calls[i].c, 0, 0, 0);
            printf("%s=%ld %s\n", calls[i].name, r, r == -1 ? (errno == EPERM ? "EPERM" : errno == ENOSYS ? "ENOSYS" : errno == EOPNOTSUPP ? "EOPNOTSUPP" : strerror(errno)) : "ran");
        }
        printf("still running\n");
    }
    return 0;
}
