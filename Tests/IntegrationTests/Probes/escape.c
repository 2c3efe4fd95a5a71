// Ways around the syscall table; each must be refused or killed.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
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
    } else if (!strcmp(mode, "x32")) {
        printf("before\n");
        long r = syscall(0x40000000 | 39);
        printf("x32 returned %ld\n", r);
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
        printf("still running\n");
    }
    return 0;
}
