// Argument validation in Linux's order: bad flags are EINVAL before Moat
// refuses what it cannot allow; what needs nothing new runs. name=ok or name=ERRNO.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static void report(const char *name, long result) {
    const char *error = errno == EINVAL ? "EINVAL" : errno == EPERM ? "EPERM" : errno == EFAULT ? "EFAULT" : strerror(errno);
    printf("%s=%s\n", name, result < 0 ? error : "ok");
}

int main(void) {
    errno = 0; report("seccomp_unknown_flags", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0xffffffffUL, NULL));
    errno = 0; report("seccomp_listener", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, NULL));
    errno = 0; report("seccomp_no_program", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL));
    int fd = open("/tmp/xattr-target", O_CREAT | O_WRONLY, 0644);
    close(fd);
    errno = 0; report("setxattr_bad_flags", setxattr("/tmp/xattr-target", "user.moat", "v", 1, 0x100));
    errno = 0; report("setxattr_bad_flags_bad_name", syscall(SYS_setxattr, "/tmp/xattr-target", (void *)1, "v", 1, 0x100));
    errno = 0; report("unshare_0", syscall(SYS_unshare, 0UL));
    errno = 0; report("unshare_fs_files_sysvsem", syscall(SYS_unshare, (unsigned long)(CLONE_FS | CLONE_FILES | CLONE_SYSVSEM)));
    errno = 0; report("unshare_newns", syscall(SYS_unshare, (unsigned long)CLONE_NEWNS));
    errno = 0; report("unshare_unknown", syscall(SYS_unshare, 1UL << 40));
    errno = 0; report("unshare_unknown_and_newns", syscall(SYS_unshare, (1UL << 40) | CLONE_NEWNS));
    return 0;
}
