// CShims/trace.c: ptrace, wait, tracee registers and memory, limits, signals, and host calls on threads.
#ifndef MOAT_TRACE_H
#define MOAT_TRACE_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/sysinfo.h>

#pragma clang assume_nonnull begin

long moat_ptrace_seize(pid_t pid, unsigned long options);
long moat_ptrace_cont(pid_t pid, int signal);

// Resume to the syscall-exit stop of the call the tracee is stopped in.
long moat_ptrace_syscall(pid_t pid);

// Runs syscall `nr` in a tracee stopped outside a syscall (an exec stop);
// 0 or -errno, its result in *result, a signal that arrived in *deferred.
long moat_inject_syscall(pid_t pid, long nr, const long args[_Nonnull 6], long *result, int *deferred);

// Takes a tracee at an exec stop out of execve, to its first instruction.
long moat_step_out_of_syscall(pid_t pid, int *deferred);

// At a signal-delivery stop: a call interrupted while it waited for the sentry's
// answer (seccomp user notification: -ERESTARTSYS) is made to restart whatever
// the handler's SA_RESTART says, when never_interrupted[its number] is set.
// 1 if it was, 0 if not, -errno.
int moat_restart_interrupted(pid_t pid, const uint8_t *_Nullable never_interrupted, int count);

// The CPU's time-stamp counter, read here.
uint64_t moat_rdtsc(void);

// A tracee stopped with SIGSEGV at an rdtsc/rdtscp (PR_TSC_SIGSEGV): answers
// it with the host counter minus `base` and steps past it. 1 if it was one,
// 0 if the signal is a real fault, -errno.
int moat_emulate_rdtsc(pid_t pid, uint64_t base);

// Where this process's own vDSO is mapped (its AT_SYSINFO_EHDR), or 0.
unsigned long moat_own_vdso(void);

// "ENOENT" for ENOENT; "" when unknown.
const char *moat_errno_name(int value);

// At a syscall-exit stop: the call's result (or -errno).
long moat_get_syscall_result(pid_t pid, int64_t *value);
long moat_ptrace_listen(pid_t pid);

// The host name of the UTS namespace at `path` (read by a child that joins it). 0 or -errno.
int moat_namespace_hostname(const char *path, char *out, size_t size);

// The uid_map and gid_map texts of the user namespace at `path` (read by a
// child that joins it), NUL-terminated in buffers of `size`. 0 or -errno.
int moat_namespace_id_maps(const char *path, char *uid_map, char *gid_map, size_t size);

// A process's limits of `resource` ({soft, hard}): sets them when `set` is
// given, and stores the previous ones in `got` when given. 0 or -errno.
int moat_limits(pid_t pid, int resource, const uint64_t *_Nullable set, uint64_t *_Nullable got);

// A process's soft limit of `resource` (RLIMIT_*; ~0 is unlimited). 0 or -errno.
int moat_soft_limit(pid_t pid, int resource, uint64_t *soft);

// At a signal-delivery stop: the signal's si_code (> 0: sent by the kernel,
// a fault; <= 0: sent by a process). 0 or -errno.
int moat_signal_code(pid_t pid, int *code);
long moat_ptrace_geteventmsg(pid_t pid, unsigned long *msg);
unsigned long moat_trace_options(void);
int moat_ptrace_interrupt(pid_t pid);                                           // 0 or -errno
long moat_reap_zombies(pid_t pid, const int *_Nullable pids, int count, int *deferred);   // reaped or -errno
long moat_give_fd(pid_t tid, pid_t tgid, int fd, uint64_t scratch, int *deferred);  // the tracee's new fd or -errno

// Syscall arguments at a seccomp stop: nr and six args, one request.
struct moat_syscall_args {
    uint32_t arch;
    int32_t nr;
    uint64_t instruction_pointer;
    uint64_t stack_pointer;
    uint64_t args[6];
};

long moat_get_syscall_args(pid_t pid, struct moat_syscall_args *out);

// Skip the trapped syscall and make it return value (two POKEUSERs).
long moat_complete_syscall(pid_t pid, long value);

// Change argument index (0..5) before the host runs the call.
long moat_set_syscall_arg(pid_t pid, int index, uint64_t value);
long moat_repeat_syscall(pid_t pid, int index, uint64_t value);   // at an exit stop; index 0-3
long moat_set_syscall_result(pid_t pid, long value);              // at an exit stop
long moat_get_stack_pointer(pid_t pid, uint64_t *out);

// wait(2) status macros.
int moat_wifexited(int status);
int moat_wexitstatus(int status);
int moat_wifsignaled(int status);
int moat_wtermsig(int status);
int moat_wifstopped(int status);
int moat_wstopsig(int status);
ssize_t moat_read_memory(pid_t pid, uint64_t address, void *buffer, size_t length);
ssize_t moat_write_memory(pid_t pid, uint64_t address, const void *buffer, size_t length);

// Installs handlers that forward these signals to pid (kill(2) is async-signal-safe).
void moat_forward_signals(pid_t pid);
int moat_sysinfo(struct sysinfo *info);
int moat_pidfd_open(pid_t pid);   // fd or -errno
pid_t moat_fork(void);
void moat_close_from(int fd);   // close_range(fd, ~0)

#pragma clang assume_nonnull end

#endif
