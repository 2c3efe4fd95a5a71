// A process that dropped to uid 1000 (so not dumpable) changes the owner
// of files it does not own through fds (AT_EMPTY_PATH, O_PATH, a dirfd):
// each is EPERM as on Linux, never EBADF (the sentry reaches its fds).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
static const char *r(int rc) { return rc < 0 ? strerror(errno) : "ok"; }
int main(void) {
  int fd = open("/etc/passwd", O_RDONLY), pfd = open("/etc/passwd", O_PATH), dfd = open("/etc", O_RDONLY|O_DIRECTORY);
  if (setresgid(1000,1000,1000) || setresuid(1000,1000,1000)) { perror("setresuid"); return 1; }
  printf("rdonly=%s\n", r(fchownat(fd, "", 1000, 1000, AT_EMPTY_PATH)));
  printf("opath=%s\n", r(fchownat(pfd, "", 1000, 1000, AT_EMPTY_PATH)));
  printf("dir=%s\n", r(fchownat(dfd, "", 1000, 1000, AT_EMPTY_PATH)));
  printf("cwd=%s\n", r(fchownat(AT_FDCWD, "", 1000, 1000, AT_EMPTY_PATH)));
  printf("fchown=%s\n", r(fchown(fd, 1000, 1000)));
  printf("relative=%s\n", r(fchownat(dfd, "passwd", 1000, 1000, 0)));
  struct stat st; printf("fstatat_empty=%s\n", r(fstatat(pfd, "", &st, AT_EMPTY_PATH)));
  printf("unlinkat_dir=%s\n", r(unlinkat(dfd, "nonexist", 0)));
  return 0;
}
