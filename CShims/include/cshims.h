// C the Swift side cannot express. Everything between fork and execve lives
// here and is async-signal-safe; the rest are thin wrappers over variadic or
// macro-only kernel interfaces.
#ifndef MOAT_CSHIMS_H
#define MOAT_CSHIMS_H

#include <stdint.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/sysinfo.h>
#include <linux/stat.h>      // struct statx, which Glibc's module leaves out
#include <linux/openat2.h>   // struct open_how and the RESOLVE_ flags

// ---------------------------------------------------------------- the child

enum moat_mount_kind {
    MOAT_MOUNT_FS = 0,       // mount(source, target, fstype, flags, data)
    MOAT_MOUNT_BIND = 1,     // bind source (a host path) onto target
};

struct moat_mount {
    int kind;
    const char *source;      // host path for binds, name for fs mounts
    const char *target;      // absolute path inside the rootfs
    const char *fstype;
    unsigned long flags;     // MS_* for the mount itself
    unsigned long remount;   // MS_RDONLY|MS_NOSUID|... applied by a bind remount
    const char *data;
    unsigned long propagation; // MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) set once mounted, or 0
};

// linux.devices[i]: a node made in the new root (mknod; bound from the
// host's /dev/char or /dev/block node where mknod is refused, in a user namespace).
struct moat_device {
    const char *path;        // absolute path inside the rootfs
    unsigned mode;           // S_IFCHR/S_IFBLK/S_IFIFO | permission bits
    unsigned major, minor;
    uint32_t uid, gid;
};

struct moat_rlimit {
    int resource;
    uint64_t soft;
    uint64_t hard;
};

struct moat_spawn_config {
    const char *rootfs;               // absolute host path of the new root
    int readonly_root;
    unsigned long root_propagation;   // linux.rootfsPropagation: MS_* (| MS_REC) for "/" in the new namespace
    unsigned long clone_flags;        // CLONE_NEW* for the child
    const struct moat_mount *mounts;
    int nmounts;
    int default_devices;              // bind null, zero, full, random, urandom, tty into /dev
    const struct moat_device *devices;  // linux.devices, made after the mounts
    int ndevices;
    const char *const *masked_paths;
    int nmasked;
    const char *const *readonly_paths;
    int nreadonly;
    const char *hostname;             // NULL: leave
    const char *const *sysctl_paths;  // /proc/sys/... written in the new namespaces
    const char *const *sysctl_values;
    int nsysctls;
    const char *cwd;
    const char *const *exec_paths;    // candidates inside the new root, tried in order
    int nexec_paths;
    char *const *argv;
    char *const *envp;
    uint32_t uid;
    uint32_t gid;
    const uint32_t *groups;
    int ngroups;
    int umask_value;                  // -1: leave
    const struct moat_rlimit *rlimits;
    int nrlimits;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int cap_last;                     // /proc/sys/kernel/cap_last_cap
    const void *filter;               // struct sock_filter[]
    size_t filter_len;                // number of instructions
    int want_listener;                // load with NEW_LISTENER and send the fd back
    int terminal;                     // process.terminal
    const char *console_socket;       // with terminal: send the pty master here (runc's protocol); NULL: keep stdio
    unsigned short console_rows, console_columns;
    const void *extra_filter;         // the config's own seccomp profile, loaded last (may be NULL)
    size_t extra_filter_len;
    int pause_before_pivot;           // report "mounted" (stage 0, index 1) and wait for a byte before pivot_root
    int no_pivot;                     // move the root onto / and chroot instead of pivot_root (ramfs roots)
    int preserve_fds;                 // fds 3 .. 3+n-1 stay open into the workload
    int trap_tsc;                     // rdtsc faults (PR_SET_TSC) so the sentry can answer it
    const char *overlay_dir;          // NULL, or the root gets an overlay whose upper layer lives here
    int overlay_in_memory;            // a tmpfs is mounted on overlay_dir first (private to the sandbox)
    const char *uid_map;              // non-NULL: a new user namespace with these maps ("inside outside count" lines)
    const char *gid_map;
    int deny_setgroups;               // write "deny" to setgroups first (needed without CAP_SETGID outside)
    const char *oom_score_adj;        // NULL: leave; else written to /proc/self/oom_score_adj (process.oomScoreAdj)
    int keep_new_privs;               // process.noNewPrivileges false: no PR_SET_NO_NEW_PRIVS (the filter
                                      // is then loaded with CAP_SYS_ADMIN, dropped right after)
    const char *const *join_paths;    // existing namespaces to join (setns) before the new ones are made
    const int *join_types;            // their CLONE_NEW* types
    int njoin;
};

// What the child reports through the close-on-exec pipe: stage 0 when it is
// set up and waits for release (index -1), or mounted and waits before
// pivot_root (index 1); then, if anything fails, the failure.
enum moat_child_stage {
    MOAT_STAGE_SYNC = 1, MOAT_STAGE_MOUNT, MOAT_STAGE_DEVICES, MOAT_STAGE_MASK,
    MOAT_STAGE_PIVOT, MOAT_STAGE_HOSTNAME, MOAT_STAGE_RLIMIT, MOAT_STAGE_CAPS,
    MOAT_STAGE_USER, MOAT_STAGE_CWD, MOAT_STAGE_SECCOMP, MOAT_STAGE_EXEC, MOAT_STAGE_SYSCTL, MOAT_STAGE_TERMINAL,
    MOAT_STAGE_OVERLAY, MOAT_STAGE_OOM_SCORE, MOAT_STAGE_NAMESPACE,
};

struct moat_child_error {
    int32_t stage;
    int32_t err;
    int32_t index;                    // which mount / rlimit / path, or -1
};

struct moat_spawned {
    pid_t pid;
    int error_fd;    // read end: EOF means exec happened
    int release_fd;  // write end: one byte lets the child load its filter and exec
    int listener_socket; // with want_listener: the seccomp listener fd arrives here (SCM_RIGHTS)
};

// Clones the child into new namespaces. It waits on release_fd before it
// loads the filter, so the parent can PTRACE_SEIZE it first.
// Returns 0 or -errno.
int moat_spawn(const struct moat_spawn_config *config, struct moat_spawned *out);

// Spawns a process into the namespaces of `init` (a running sandbox), as the
// caller's child. The config's rlimits, identity,
// cwd, argv/env and filter apply; its mounts and namespaces do not.
// fds: stdin, stdout, stderr, then the console socket for a terminal (or -1).
// procfd: the host's /proc (-1: the path /proc).
int moat_spawn_joined(const struct moat_spawn_config *config, pid_t init, int procfd, const int fds[4],
                      struct moat_spawned *out);
// Moves the caller into a mount namespace of its own where /proc is the
// sandbox's; returns an O_PATH fd of the host's /proc, or -errno.
int moat_show_sandbox_proc(pid_t init);

// Runs `path` inside the namespaces of `init` (hooks that run in the
// container): a middle process enters them, forks the program with `stdin_fd`
// as its stdin, and exits with its status (128 + signal if killed). Killing
// the middle process kills the program. Returns the middle pid or -errno.
pid_t moat_run_in_namespaces(pid_t init, int procfd, const char *path, char *const argv[], char *const envp[],
                             int stdin_fd);

// ---------------------------------------------------------------- ptrace

long moat_ptrace_seize(pid_t pid, unsigned long options);
long moat_ptrace_cont(pid_t pid, int signal);
// Resume to the syscall-exit stop of the call the tracee is stopped in.
long moat_ptrace_syscall(pid_t pid);
// Runs syscall `nr` in a tracee stopped outside a syscall (an exec stop);
// 0 or -errno, its result in *result, a signal that arrived in *deferred.
long moat_inject_syscall(pid_t pid, long nr, const long args[6], long *result, int *deferred);
// Takes a tracee at an exec stop out of execve, to its first instruction.
long moat_step_out_of_syscall(pid_t pid, int *deferred);
// madvise(MADV_PAGEOUT) over this process's read-only mappings of its own
// executable; the bytes advised, or -errno.
long moat_page_out_own_image(void);
// At a signal-delivery stop: a call interrupted while it waited for the sentry's
// answer (seccomp user notification: -ERESTARTSYS) is made to restart whatever
// the handler's SA_RESTART says, when never_interrupted[its number] is set.
// 1 if it was, 0 if not, -errno.
int moat_restart_interrupted(pid_t pid, const uint8_t *never_interrupted, int count);
// The CPU's time-stamp counter, read here.
uint64_t moat_rdtsc(void);
// A tracee stopped with SIGSEGV at an rdtsc/rdtscp (PR_TSC_SIGSEGV): answers
// it with the host counter minus `base` and steps past it. 1 if it was one,
// 0 if the signal is a real fault, -errno.
int moat_emulate_rdtsc(pid_t pid, uint64_t base);
// Copies bytes between the caller's terminal (`in`, `out`) and a pty master
// on a thread of its own, `in` in raw mode, following its window size. 0 or
// -errno. finish drains the workload's output, restores the terminal and
// closes the master.
int moat_terminal_relay_start(int master, int in, int out);
void moat_terminal_relay_finish(void);
// Where this process's own vDSO is mapped (its AT_SYSINFO_EHDR), or 0.
unsigned long moat_own_vdso(void);
// The sentry vDSO's code (vdso.S), never run by Moat itself: its bytes and
// length, and where each exported function starts in it.
enum moat_vdso_function {
    MOAT_VDSO_CLOCK_GETTIME, MOAT_VDSO_GETTIMEOFDAY, MOAT_VDSO_TIME,
    MOAT_VDSO_CLOCK_GETRES, MOAT_VDSO_GETCPU, MOAT_VDSO_FUNCTIONS
};
const uint8_t *moat_vdso_code(size_t *length);
size_t moat_vdso_function_offset(enum moat_vdso_function function);
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
int moat_limits(pid_t pid, int resource, const uint64_t *set, uint64_t *got);
// A process's soft limit of `resource` (RLIMIT_*; ~0 is unlimited). 0 or -errno.
int moat_soft_limit(pid_t pid, int resource, uint64_t *soft);
// At a signal-delivery stop: the signal's si_code (> 0: sent by the kernel,
// a fault; <= 0: sent by a process). 0 or -errno.
int moat_signal_code(pid_t pid, int *code);
long moat_ptrace_geteventmsg(pid_t pid, unsigned long *msg);
unsigned long moat_trace_options(void);
int moat_ptrace_interrupt(pid_t pid);                                           // 0 or -errno
long moat_reap_zombies(pid_t pid, const int *pids, int count, int *deferred);   // reaped or -errno
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

// ---------------------------------------------------------------- memory

ssize_t moat_read_memory(pid_t pid, uint64_t address, void *buffer, size_t length);
ssize_t moat_write_memory(pid_t pid, uint64_t address, const void *buffer, size_t length);

// ---------------------------------------------------------------- seccomp

int moat_seccomp_add_notify(void *ctx, int nr);

// A filter from a config's own profile: any SECCOMP_RET_* action, rules with
// argument comparisons (op: libseccomp's SCMP_CMP_* values).
struct moat_arg_cmp {
    uint32_t index;
    uint32_t op;
    uint64_t a;
    uint64_t b;
};
void *moat_seccomp_new_with_action(uint32_t default_action);
int moat_seccomp_add_rule(void *ctx, uint32_t action, int nr, uint32_t count, const struct moat_arg_cmp *cmps);

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
long moat_receive_with_fds(int socket, void *data, size_t length, int fds[MOAT_MAX_PASSED_FDS]);
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

// files.c: lookups in the sandbox's root, under a workload thread's credentials.
long moat_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);  // fd or -errno
int moat_open_as_held(int dirfd, const char *path, int flags);   // fd or -errno, CAP_SYS_PTRACE dropped
int moat_enter_credentials(uint32_t fsuid, uint32_t fsgid, const uint32_t *groups, int ngroups, uint64_t effective);
int moat_leave_credentials(void);
long moat_statx_fd(int fd, int flags, unsigned int mask, struct statx *buffer);   // 0 or -errno
long moat_access_fd(int fd, int mode);                                    // 0 or -errno
long moat_fstatfs(int fd, void *buffer);   // struct statfs (120 bytes): 0 or -errno
long moat_setns(int fd);                   // this thread only: 0 or -errno
long moat_memfd(const char *name);         // close-on-exec memfd or -errno
int moat_take_fd(pid_t pid, int target);   // pidfd_getfd: our copy of another process's fd, or -errno
int moat_unshare_fs(void);                 // this thread's own cwd and umask: 0 or -errno
enum { MOAT_UNIX_BIND, MOAT_UNIX_SENDTO };
int moat_tgkill(pid_t tgid, pid_t tid, int signal);
pid_t moat_gettid(void);
long moat_unix_in_root(int sock, const void *addr, unsigned int length, int operation,
                       const void *data, size_t size, int flags,
                       int sandbox_root, int caller_cwd, int host_root, int home,
                       const uint32_t *caller_ids, uint64_t caller_caps,
                       const void *control, size_t control_length, uint64_t keep_caps);  // 0, bytes sent, or -errno
                       // caller_ids: real uid, effective uid, real gid, effective gid the peer is to see (NULL: the thread's);
                       // control: control messages to send with the data; keep_caps: capabilities the send needs beyond the caller's
int moat_unix_peer_file(int sock, uint64_t *dev, uint32_t *ino);  // sock_diag: the file its peer is bound to; 0 or -errno
long moat_getxattrat(int dirfd, const char *path, int at_flags, const char *name, void *value, size_t size);  // size or -errno
long moat_setxattrat(int dirfd, const char *path, int at_flags, const char *name, const void *value, size_t size, int flags);
long moat_listxattrat(int dirfd, const char *path, int at_flags, char *list, size_t size);
long moat_removexattrat(int dirfd, const char *path, int at_flags, const char *name);
long moat_inotify_watch_fd(int inotify, int proc, int fd, uint32_t mask, int home);   // wd or -errno
long moat_renameat2(int olddir, const char *oldname, int newdir, const char *newname, unsigned int flags);  // 0 or -errno
// Whether poll reports the fd hung up (a listener whose filter no task uses).
int moat_fd_hung_up(int fd);
// A non-blocking signalfd for SIGCHLD, which is blocked for the calling thread.
int moat_sigchld_fd(void);
void moat_drain_fd(int fd);
pid_t moat_wait_nohang(int *status);                          // 0: nothing ready, -1: errno

void *moat_seccomp_new(uint32_t default_errno);
int moat_seccomp_add_trace(void *ctx, int nr, uint16_t data);
int moat_seccomp_add_allow(void *ctx, int nr);
int moat_seccomp_add_errno(void *ctx, int nr, uint16_t err);
// Allow when (arg & mask) == 0; otherwise errno for each bit of mask.
int moat_seccomp_add_masked(void *ctx, int nr, int arg, uint64_t mask, uint16_t err);
// Allow when the whole 64-bit argument is 0; otherwise trace (data nr) or notify.
int moat_seccomp_add_allow_if_zero(void *ctx, int nr, int arg, int notify);
// Allow, except errno when (arg & mask) is one of `values`.
int moat_seccomp_add_allow_except(void *ctx, int nr, int arg, uint64_t mask, const uint64_t *values, int count,
                                  uint16_t err);
// Trace (or allow) `nr` when (arg & mask) equals one of `values`.
int moat_seccomp_add_masked_values(void *ctx, int nr, int arg, uint64_t mask, int trace,
                                   const uint64_t *values, int count);
// Exports the BPF program into a malloc'd buffer; returns the instruction count or -errno.
long moat_seccomp_export(void *ctx, void **program);
void moat_seccomp_release(void *ctx);
int moat_syscall_number(const char *name);       // -1 when libseccomp does not know it
char *moat_syscall_name(int nr);                  // malloc'd, NULL when unknown

// Decodes one BPF program against (arch, nr): returns the SECCOMP_RET_* value.
// Used by tests to prove the filter and the table agree.
uint32_t moat_bpf_evaluate(const void *program, size_t count, uint32_t arch, int nr, const uint64_t *args);

// ---------------------------------------------------------------- signals

// Installs handlers that forward these signals to pid (kill(2) is async-signal-safe).
void moat_forward_signals(pid_t pid);
int moat_sysinfo(struct sysinfo *info);
int moat_pidfd_open(pid_t pid);   // fd or -errno
pid_t moat_fork(void);
void moat_close_from(int fd);   // close_range(fd, ~0)


// ---------------------------------------------------------------- the ABI
// Linux constants Glibc's Swift module leaves out (they need _GNU_SOURCE):
// filled in abi.c from the C headers, so no value is typed by hand.
struct moat_abi {
    int at_symlink_nofollow, at_eaccess, at_no_automount, at_empty_path, at_statx_force_sync, at_statx_dont_sync;
    int o_path, o_tmpfile;
    unsigned int in_dont_follow;
    int scm_rights, scm_credentials;
    unsigned int mmsghdr_size, mmsghdr_len_offset;   // struct mmsghdr
};
extern const struct moat_abi moat_abi;
// struct ucred (a _GNU_SOURCE type): abi.c checks this layout against <sys/socket.h>.
struct moat_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

#endif
