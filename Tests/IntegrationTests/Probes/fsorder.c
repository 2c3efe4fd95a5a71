// File calls whose errors Linux decides in a particular order: the root
// cannot be rmdir'd (EBUSY, a "." is EINVAL), utimensat with both times
// UTIME_OMIT looks nothing up, O_PATH directory fds and fchownat on an fd.
// Prints name=ok or name=ERRNO-NAME.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
static void report(const char *name, long result) {
    printf("%s=%s\n", name, result < 0 ? strerrorname_np(errno) : "ok");
}
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    mkdir("/tmp/d", 0777);
    int f = open("/tmp/d/f", O_CREAT | O_WRONLY, 0644); close(f);
    int dir = open("/tmp/d", O_RDONLY | O_DIRECTORY);
    int pathdir = open("/tmp/d", O_PATH | O_DIRECTORY);
    report("unlinkat_root_removedir", unlinkat(dir, "/", AT_REMOVEDIR));
    report("rmdir_root", rmdir("/"));
    report("unlinkat_dot", unlinkat(dir, ".", AT_REMOVEDIR));
    struct timespec omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
    report("utimensat_omit_both", utimensat(AT_FDCWD, "/tmp/d/f", omit, 0));
    report("utimensat_omit_both_missing", utimensat(AT_FDCWD, "/tmp/d/nope", omit, 0));
    struct stat st;
    report("fstatat_opath_dir", fstatat(pathdir, "f", &st, 0));
    report("renameat_opath_dir", renameat(pathdir, "f", pathdir, "g"));
    report("unlinkat_opath_dir", unlinkat(pathdir, "g", 0));
    f = open("/tmp/d/h", O_CREAT | O_WRONLY, 0644);
    report("fchownat_empty_path_root", fchownat(f, "", 0, 0, AT_EMPTY_PATH));
    if (fork() == 0) {
        setresuid(1000, 1000, 1000);
        report("fchownat_empty_path_nonowner", fchownat(f, "", 1000, 1000, AT_EMPTY_PATH));
        report("fchown_nonowner", fchown(f, 1000, 1000));
        _exit(0);
    }
    sleep(1);
    return 0;
}
