// CShims/child.c: the child between clone and execve: its configuration, the spawn calls, what it reports.
#ifndef MOAT_CHILD_H
#define MOAT_CHILD_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#pragma clang assume_nonnull begin

enum moat_mount_kind {
    MOAT_MOUNT_FS = 0,       // mount(source, target, fstype, flags, data)
    MOAT_MOUNT_BIND = 1,     // bind source (a host path) onto target
};

struct moat_mount {
    int kind;
    const char *_Nullable source;      // host path for binds, name for fs mounts
    const char *_Nullable target;      // absolute path inside the rootfs
    const char *_Nullable fstype;
    unsigned long flags;     // MS_* for the mount itself
    unsigned long remount;   // MS_RDONLY|MS_NOSUID|... applied by a bind remount
    const char *_Nullable data;
    unsigned long propagation; // MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) set once mounted, or 0
};

// linux.devices[i]: a node made in the new root (mknod; bound from the
// host's /dev/char or /dev/block node where mknod is refused, in a user namespace).
struct moat_device {
    const char *_Nullable path;        // absolute path inside the rootfs
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
    const char *_Nullable rootfs;               // absolute host path of the new root
    int readonly_root;
    int nodev_files;                  // the root and bound directories mounted nodev: nodes in the image or a volume open nothing
    unsigned long root_propagation;   // linux.rootfsPropagation: MS_* (| MS_REC) for "/" in the new namespace
    unsigned long clone_flags;        // CLONE_NEW* for the child
    const struct moat_mount *_Nullable mounts;
    int nmounts;
    int default_devices;              // bind null, zero, full, random, urandom, tty into /dev
    const struct moat_device *_Nullable devices;  // linux.devices, made after the mounts
    int ndevices;
    const char *_Nullable const *_Nullable masked_paths;
    int nmasked;
    const char *_Nullable const *_Nullable readonly_paths;
    int nreadonly;
    const char *_Nullable hostname;             // NULL: leave
    const char *_Nullable const *_Nullable sysctl_paths;  // /proc/sys/... written in the new namespaces
    const char *_Nullable const *_Nullable sysctl_values;
    int nsysctls;
    const char *_Nullable cwd;
    const char *_Nullable const *_Nullable exec_paths;    // candidates inside the new root, tried in order
    int nexec_paths;
    char *_Nullable const *_Nullable argv;
    char *_Nullable const *_Nullable envp;
    uint32_t uid;
    uint32_t gid;
    const uint32_t *_Nullable groups;
    int ngroups;
    int umask_value;                  // -1: leave
    const struct moat_rlimit *_Nullable rlimits;
    int nrlimits;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int cap_last;                     // /proc/sys/kernel/cap_last_cap
    const void *_Nullable filter;               // struct sock_filter[]
    size_t filter_len;                // number of instructions
    int want_listener;                // load with NEW_LISTENER and send the fd back
    int filter_at_release;            // no filter here: it comes down the release pipe (moat_release_with_filter)
    int terminal;                     // process.terminal
    const char *_Nullable console_socket;       // with terminal: send the pty master here (runc's protocol); NULL: keep stdio
    unsigned short console_rows, console_columns;
    const void *_Nullable extra_filter;         // the config's own seccomp profile, loaded last (may be NULL)
    size_t extra_filter_len;
    int pause_before_pivot;           // report "mounted" (stage 0, index 1) and wait for a byte before pivot_root
    int no_pivot;                     // move the root onto / and chroot instead of pivot_root (ramfs roots)
    int preserve_fds;                 // fds 3 .. 3+n-1 stay open into the workload
    int trap_tsc;                     // rdtsc faults (PR_SET_TSC) so the sentry can answer it
    const char *_Nullable overlay_dir;          // NULL, or the root gets an overlay whose upper layer lives here
    int overlay_in_memory;            // a tmpfs is mounted on overlay_dir first (private to the sandbox)
    const char *_Nullable uid_map;              // non-NULL: a new user namespace with these maps ("inside outside count" lines)
    const char *_Nullable gid_map;
    int deny_setgroups;               // write "deny" to setgroups first (needed without CAP_SETGID outside)
    const char *_Nullable oom_score_adj;        // NULL: leave; else written to /proc/self/oom_score_adj (process.oomScoreAdj)
    int keep_new_privs;               // process.noNewPrivileges false: no PR_SET_NO_NEW_PRIVS (the filter
                                      // is then loaded with CAP_SYS_ADMIN, dropped right after)
    const char *_Nullable const *_Nullable join_paths;    // existing namespaces to join (setns) before the new ones are made
    const int *_Nullable join_types;            // their CLONE_NEW* types
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
int moat_spawn_joined(const struct moat_spawn_config *config, pid_t init, int procfd, const int fds[_Nonnull 4],
                      struct moat_spawned *out);

// Lets a child spawned with filter_at_release go on: sends it `filter`
// (`count` struct sock_filter) and the release byte. 0 or -errno.
int moat_release_with_filter(int release_fd, const void *filter, size_t count);

// Moves the caller into a mount namespace of its own where /proc is the
// sandbox's; returns an O_PATH fd of the host's /proc, or -errno.
int moat_show_sandbox_proc(pid_t init);

// Runs `path` inside the namespaces of `init` (hooks that run in the
// container): a middle process enters them, forks the program with `stdin_fd`
// as its stdin, and exits with its status (128 + signal if killed). Killing
// the middle process kills the program. Returns the middle pid or -errno.
pid_t moat_run_in_namespaces(pid_t init, int procfd, const char *path, char *_Nullable const argv[_Nonnull], char *_Nullable const envp[_Nonnull],
                             int stdin_fd);

#pragma clang assume_nonnull end

#endif
