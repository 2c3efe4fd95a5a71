// ptrace, wait status, tracee memory and signal forwarding: the variadic and
// macro-only interfaces, one line each.
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <string.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <fcntl.h>
#include <sched.h>

long moat_ptrace_seize(pid_t pid, unsigned long options) {
    return ptrace(PTRACE_SEIZE, pid, 0, options) < 0 ? -errno : 0;
}
long moat_ptrace_cont(pid_t pid, int signal) { return ptrace(PTRACE_CONT, pid, 0, (long)signal) < 0 ? -errno : 0; }
long moat_ptrace_syscall(pid_t pid) { return ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0 ? -errno : 0; }
long moat_ptrace_listen(pid_t pid) { return ptrace(PTRACE_LISTEN, pid, 0, 0) < 0 ? -errno : 0; }

int moat_namespace_hostname(const char *path, char *out, size_t size) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return -errno;
    pid_t child = fork();
    if (child < 0) { int err = errno; close(fds[0]); close(fds[1]); return -err; }
    if (child == 0) {
        // A process of its own may enter the namespace without moving the caller.
        struct utsname names;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWUTS) < 0 || uname(&names) < 0) _exit(1);
        (void)!write(fds[1], names.nodename, strlen(names.nodename));
        _exit(0);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], out, size - 1);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (n < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -EINVAL;
    out[n] = 0;
    return 0;
}

int moat_namespace_id_maps(const char *path, char *uid_map, char *gid_map, size_t size) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return -errno;
    pid_t child = fork();
    if (child < 0) { int err = errno; close(fds[0]); close(fds[1]); return -err; }
    if (child == 0) {
        // Read from inside, the maps show the parent namespace's ids (the host's).
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0) _exit(1);
        const char *files[2] = { "/proc/self/uid_map", "/proc/self/gid_map" };
        for (int i = 0; i < 2; i++) {
            char text[4096];
            int map = open(files[i], O_RDONLY | O_CLOEXEC);
            ssize_t n = map < 0 ? -1 : read(map, text, sizeof text - 1);
            if (n < 0) _exit(1);
            uint32_t length = (uint32_t)n;
            if (write(fds[1], &length, sizeof length) != sizeof length || write(fds[1], text, (size_t)n) != n) _exit(1);
        }
        _exit(0);
    }
    close(fds[1]);
    char *outs[2] = { uid_map, gid_map };
    int ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
        uint32_t length = 0;
        ok = read(fds[0], &length, sizeof length) == sizeof length && length < size
            && read(fds[0], outs[i], length) == (ssize_t)length;
        if (ok) outs[i][length] = 0;
    }
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

int moat_limits(pid_t pid, int resource, const uint64_t *set, uint64_t *got) {
    struct { uint64_t cur, max; } limit, old;
    if (set) { limit.cur = set[0]; limit.max = set[1]; }
    if (syscall(SYS_prlimit64, pid, resource, set ? &limit : NULL, &old) < 0) return -errno;
    if (got) { got[0] = old.cur; got[1] = old.max; }
    return 0;
}

int moat_soft_limit(pid_t pid, int resource, uint64_t *soft) {
    struct { uint64_t cur, max; } limit;
    if (syscall(SYS_prlimit64, pid, resource, NULL, &limit) < 0) return -errno;
    *soft = limit.cur;
    return 0;
}

int moat_signal_code(pid_t pid, int *code) {
    siginfo_t info;
    if (ptrace(PTRACE_GETSIGINFO, pid, 0, &info) < 0) return -errno;
    *code = info.si_code;
    return 0;
}
long moat_ptrace_geteventmsg(pid_t pid, unsigned long *msg) {
    return ptrace(PTRACE_GETEVENTMSG, pid, 0, msg) < 0 ? -errno : 0;
}

unsigned long moat_trace_options(void) {
    return PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
           PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
}

long moat_get_syscall_result(pid_t pid, int64_t *value) {
    struct __ptrace_syscall_info info;
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof info, &info);
    if (n < 0) return -errno;
    if (info.op != PTRACE_SYSCALL_INFO_EXIT) return -EINVAL;
    *value = info.exit.rval;
    return 0;
}

long moat_get_syscall_args(pid_t pid, struct moat_syscall_args *out) {
    struct __ptrace_syscall_info info;
    long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof info, &info);
    if (n < 0) return -errno;
    if (info.op != PTRACE_SYSCALL_INFO_SECCOMP) return -EINVAL;
    out->arch = info.arch;
    out->nr = (int32_t)info.seccomp.nr;
    out->instruction_pointer = info.instruction_pointer;
    out->stack_pointer = info.stack_pointer;
    for (int i = 0; i < 6; i++) out->args[i] = info.seccomp.args[i];
    return 0;
}

#define REG(name) offsetof(struct user_regs_struct, name)

long moat_complete_syscall(pid_t pid, long value) {
    // orig_rax = -1 makes the kernel skip the call; rax is what it returns.
    if (ptrace(PTRACE_POKEUSER, pid, REG(orig_rax), -1L) < 0) return -errno;
    if (ptrace(PTRACE_POKEUSER, pid, REG(rax), value) < 0) return -errno;
    return 0;
}

long moat_set_syscall_arg(pid_t pid, int index, uint64_t value) {
    static const size_t offsets[6] = { REG(rdi), REG(rsi), REG(rdx), REG(r10), REG(r8), REG(r9) };
    if (index < 0 || index > 5) return -EINVAL;
    if (ptrace(PTRACE_POKEUSER, pid, offsets[index], value) < 0) return -errno;
    return 0;
}

// At a syscall-exit stop: makes the tracee run the same call again (its
// instruction pointer back over the 2-byte syscall instruction, rax its
// number again), with argument `index` set to `value`.
long moat_repeat_syscall(pid_t pid, int index, uint64_t value) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) return -errno;
    regs.rip -= 2;
    regs.rax = regs.orig_rax;
    switch (index) {
    case 0: regs.rdi = value; break;
    case 1: regs.rsi = value; break;
    case 2: regs.rdx = value; break;
    case 3: regs.r10 = value; break;
    default: break;
    }
    return ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0 ? -errno : 0;
}

// At a syscall-exit stop: the call returns `value` instead.
long moat_set_syscall_result(pid_t pid, long value) {
    return ptrace(PTRACE_POKEUSER, pid, REG(rax), value) < 0 ? -errno : 0;
}

long moat_get_stack_pointer(pid_t pid, uint64_t *out) {
    errno = 0;
    long value = ptrace(PTRACE_PEEKUSER, pid, REG(rsp), 0);
    if (errno) return -errno;
    *out = (uint64_t)value;
    return 0;
}

int moat_wifexited(int s) { return WIFEXITED(s); }
int moat_wexitstatus(int s) { return WEXITSTATUS(s); }
int moat_wifsignaled(int s) { return WIFSIGNALED(s); }
int moat_wtermsig(int s) { return WTERMSIG(s); }
int moat_wifstopped(int s) { return WIFSTOPPED(s); }
int moat_wstopsig(int s) { return WSTOPSIG(s); }

ssize_t moat_read_memory(pid_t pid, uint64_t address, void *buffer, size_t length) {
    struct iovec local = { buffer, length }, remote = { (void *)address, length };
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return n < 0 ? -errno : n;
}

ssize_t moat_write_memory(pid_t pid, uint64_t address, const void *buffer, size_t length) {
    struct iovec local = { (void *)buffer, length }, remote = { (void *)address, length };
    ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    return n < 0 ? -errno : n;
}

static volatile pid_t forward_to;

static void forward(int sig) {
    int saved = errno;
    if (forward_to > 0) kill(forward_to, sig);
    errno = saved;
}

void moat_forward_signals(pid_t pid) {
    static const int signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
    forward_to = pid;
    struct sigaction action = { 0 };
    action.sa_handler = forward;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigset_t unblock;
    sigemptyset(&unblock);
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        sigaction(signals[i], &action, NULL);
        sigaddset(&unblock, signals[i]);
    }
    // The supervisor may have inherited them blocked (test runners, shells).
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

int moat_sysinfo(struct sysinfo *info) { return sysinfo(info) < 0 ? -errno : 0; }

int moat_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

pid_t moat_fork(void) {
    pid_t pid = fork();
    return pid < 0 ? -errno : pid;
}

void moat_close_from(int fd) { syscall(SYS_close_range, (unsigned)fd, ~0U, 0); }

const char *moat_errno_name(int value) {
    const char *name = strerrorname_np(value);
    return name ? name : "";
}

// Runs one syscall in a tracee held at a ptrace stop outside any syscall (an
// exec stop): `syscall` is written over the instruction at rip, the tracee
// single-steps through it, then the instruction and registers are put back.
// A signal that arrives meanwhile is returned in *deferred for the caller to
// deliver when it resumes the tracee.
long moat_inject_syscall(pid_t pid, long nr, const long args[6], long *result, int *deferred) {
    struct user_regs_struct saved, regs;
    *deferred = 0;
    if (ptrace(PTRACE_GETREGS, pid, 0, &saved) < 0) return -errno;
    errno = 0;
    long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)saved.rip, 0);
    if (errno) return -errno;
    long patched = (word & ~0xffffL) | 0x050f;   // 0f 05: syscall
    if (ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)patched) < 0) return -errno;
    regs = saved;
    regs.rax = (unsigned long)nr;
    regs.orig_rax = (unsigned long)-1;
    regs.rdi = (unsigned long)args[0]; regs.rsi = (unsigned long)args[1]; regs.rdx = (unsigned long)args[2];
    regs.r10 = (unsigned long)args[3]; regs.r8 = (unsigned long)args[4]; regs.r9 = (unsigned long)args[5];
    long rc = 0;
    if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0) { rc = -errno; goto restore; }
    // Single-step until the instruction is done: a seccomp stop (an observed
    // run traps every call) or a signal may come first.
    for (int steps = 0; steps < 8; steps++) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0) { rc = -errno; goto restore; }
        int status = 0;
        if (waitpid(pid, &status, __WALL) < 0) { rc = -errno; goto restore; }
        if (!WIFSTOPPED(status)) return -ESRCH;   // it died: nothing to restore
        if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) break;
        if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP) *deferred = WSTOPSIG(status);
    }
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) { rc = -errno; goto restore; }
    *result = (long)regs.rax;
restore:
    ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)word);
    ptrace(PTRACE_SETREGS, pid, 0, &saved);
    return rc;
}

// At an exec stop the tracee is still inside execve: one single-step takes
// it out (the kernel reports the step at the syscall's exit, before the new
// image's first instruction runs). Returns 0 or -errno; a signal that arrives
// instead is returned in *deferred.
long moat_step_out_of_syscall(pid_t pid, int *deferred) {
    *deferred = 0;
    for (int steps = 0; steps < 8; steps++) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0) return -errno;
        int status = 0;
        if (waitpid(pid, &status, __WALL) < 0) return -errno;
        if (!WIFSTOPPED(status)) return -ESRCH;
        if (WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) return 0;
        if ((status >> 16) == 0) *deferred = WSTOPSIG(status);
    }
    return -EAGAIN;
}

unsigned long moat_own_vdso(void) { return getauxval(AT_SYSINFO_EHDR); }

// Drops this process's mappings of its own executable's pages (they stay in
// the page cache, shared): code, constants and data used only to set a
// sandbox up are not charged to a supervisor that then idles for hours. What the
// serving loop needs faults back in. Returns the bytes advised, or -errno.
uint64_t moat_rdtsc(void) {
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

int moat_emulate_rdtsc(pid_t pid, uint64_t base) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) return -errno;
    errno = 0;
    long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)regs.rip, 0);
    if (errno) return -errno;
    unsigned char code[3] = { (unsigned char)word, (unsigned char)(word >> 8), (unsigned char)(word >> 16) };
    int length;
    if (code[0] == 0x0f && code[1] == 0x31) length = 2;                                  // rdtsc
    else if (code[0] == 0x0f && code[1] == 0x01 && code[2] == 0xf9) length = 3;          // rdtscp
    else return 0;
    uint64_t value = moat_rdtsc() - base;
    regs.rax = value & 0xffffffffu;
    regs.rdx = value >> 32;
    if (length == 3) regs.rcx = 0;   // TSC_AUX: no CPU number
    regs.rip += (unsigned long)length;
    if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0) return -errno;
    return 1;
}

int moat_restart_interrupted(pid_t pid, const uint8_t *never_interrupted, int count) {
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) return -errno;
    long nr = (long)regs.orig_rax;
    if ((long)regs.rax != -512 /* ERESTARTSYS */ || nr < 0 || nr >= count || !never_interrupted[nr]) return 0;
    regs.rax = (unsigned long)-513;   // ERESTARTNOINTR: restarted after the handler, never EINTR
    if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0) return -errno;
    return 1;
}

// Stops a running tracee at the next chance (a PTRACE_EVENT_STOP).
int moat_ptrace_interrupt(pid_t pid) {
    return ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ? -errno : 0;
}

// Makes a tracee held at a stop reap the zombies `pids` (its children) with
// wait4(pid, NULL, WNOHANG, NULL), its seccomp filter suspended meanwhile
// so that the injected calls reach the kernel (needs CAP_SYS_ADMIN). Its
// registers come back as they were: a syscall the stop interrupted restarts
// as it would after any stop. Returns how many were reaped, or -errno; a
// signal that arrived meanwhile is left in *deferred.
long moat_reap_zombies(pid_t pid, const int *pids, int count, int *deferred) {
    *deferred = 0;
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, moat_trace_options() | PTRACE_O_SUSPEND_SECCOMP) < 0) return -errno;
    long reaped = 0;
    for (int i = 0; i < count; i++) {
        long args[6] = { pids[i], 0, WNOHANG, 0, 0, 0 }, result = 0;
        int signal = 0;
        if (moat_inject_syscall(pid, SYS_wait4, args, &result, &signal) == 0 && result == pids[i]) reaped++;
        if (signal) *deferred = signal;
    }
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, moat_trace_options()) < 0) return -errno;
    return reaped;
}

// Gives our fd `fd` to a tracee held at a stop (a ptrace stop cannot take
// SECCOMP_ADDFD): it makes a socketpair (injected), we take one end with
// pidfd_getfd and send `fd` over it, it receives it with an injected
// recvmsg whose buffers live in `scratch` (unused memory below its stack,
// 512 bytes), then closes both ends. Its new fd (close-on-exec), or -errno;
// a signal that arrived meanwhile is left in *deferred.
long moat_give_fd(pid_t tid, pid_t tgid, int fd, uint64_t scratch, int *deferred) {
    long result = 0, args[6] = { AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, (long)scratch, 0, 0 };
    int signal = 0, pair[2];
    *deferred = 0;
    long rc = moat_inject_syscall(tid, SYS_socketpair, args, &result, &signal);
    if (signal) *deferred = signal;
    if (rc < 0) return rc;
    if (result < 0) return result;
    if (moat_read_memory(tid, scratch, pair, sizeof pair) != (ssize_t)sizeof pair) return -EFAULT;
    int ours = moat_take_fd(tgid, pair[1]);
    long close_args[6] = { pair[1], 0, 0, 0, 0, 0 };
    moat_inject_syscall(tid, SYS_close, close_args, &result, &signal);
    if (signal) *deferred = signal;
    long received = -EIO;
    if (ours >= 0) {
        char byte = 0;
        if (moat_send_with_fds(ours, &byte, 1, &fd, 1) >= 0) {
            // msghdr at scratch, its iovec at +64, control at +128, the byte at +256.
            struct msghdr message = { 0 };
            struct iovec io = { (void *)(uintptr_t)(scratch + 256), 1 };
            message.msg_iov = (struct iovec *)(uintptr_t)(scratch + 64);
            message.msg_iovlen = 1;
            message.msg_control = (void *)(uintptr_t)(scratch + 128);
            message.msg_controllen = CMSG_SPACE(sizeof(int));
            if (moat_write_memory(tid, scratch, &message, sizeof message) == (ssize_t)sizeof message &&
                moat_write_memory(tid, scratch + 64, &io, sizeof io) == (ssize_t)sizeof io) {
                long recv_args[6] = { pair[0], (long)scratch, MSG_CMSG_CLOEXEC, 0, 0, 0 };
                rc = moat_inject_syscall(tid, SYS_recvmsg, recv_args, &result, &signal);
                if (signal) *deferred = signal;
                char control[CMSG_SPACE(sizeof(int))];
                if (rc == 0 && result == 1 &&
                    moat_read_memory(tid, scratch + 128, control, sizeof control) == (ssize_t)sizeof control) {
                    struct cmsghdr *header = (struct cmsghdr *)control;
                    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
                        int given;
                        memcpy(&given, CMSG_DATA(header), sizeof given);
                        received = given;
                    }
                } else if (rc == 0 && result < 0) {
                    received = result;
                }
            }
        }
        close(ours);
    }
    close_args[0] = pair[0];
    moat_inject_syscall(tid, SYS_close, close_args, &result, &signal);
    if (signal) *deferred = signal;
    return received;
}
