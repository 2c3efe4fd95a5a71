// Prints a file's owner as statx(2) gives it ("uid:gid"), for the tests
// that compare it with stat's: the sentry serves both.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    struct statx info;
    if (argc < 2 || statx(AT_FDCWD, argv[1], 0, STATX_UID | STATX_GID, &info) != 0) { perror("statx"); return 1; }
    printf("%u:%u\n", info.stx_uid, info.stx_gid);
    return 0;
}
