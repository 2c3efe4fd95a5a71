// The vDSO as a runtime without libc sees it. `vdsocalls dump` writes the
// image AT_SYSINFO_EHDR points at (for readelf). `vdsocalls` finds each
// function the kernel exports on x86-64 by itself, as Go does (program
// headers, dynamic section, DT_HASH, DT_VERSYM and DT_VERDEF for
// LINUX_2.6), calls it, compares it with the system call, then does the
// same in a fork child. Built with glibc and with musl.
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const Elf64_Sym *symtab;
static const char *strtab;
static const uint32_t *hash;
static const uint16_t *versym;
static const Elf64_Verdef *verdef;
static uintptr_t load;

static int setup(const unsigned char *base) {
    const Elf64_Ehdr *eh = (const void *)base;
    const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    int loaded = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !loaded) { load = (uintptr_t)base + ph[i].p_offset - ph[i].p_vaddr; loaded = 1; }
        if (ph[i].p_type == PT_DYNAMIC) dyn = (const void *)(base + ph[i].p_offset);
    }
    if (!loaded || !dyn) return -1;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        const void *p = (const void *)(load + dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_SYMTAB: symtab = p; break;
        case DT_STRTAB: strtab = p; break;
        case DT_HASH: hash = p; break;
        case DT_VERSYM: versym = p; break;
        case DT_VERDEF: verdef = p; break;
        }
    }
    return symtab && strtab && hash && versym && verdef ? 0 : -1;
}

// The version index of LINUX_2.6 in DT_VERDEF, or -1.
static int linux26(void) {
    for (const Elf64_Verdef *d = verdef;; d = (const void *)((const char *)d + d->vd_next)) {
        const Elf64_Verdaux *aux = (const void *)((const char *)d + d->vd_aux);
        if (!(d->vd_flags & VER_FLG_BASE) && strcmp(strtab + aux->vda_name, "LINUX_2.6") == 0) return d->vd_ndx & 0x7fff;
        if (d->vd_next == 0) return -1;
    }
}

static unsigned long elf_hash(const char *name) {
    unsigned long h = 0, g;
    for (; *name; name++) {
        h = (h << 4) + (unsigned char)*name;
        if ((g = h & 0xf0000000)) h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

// A function symbol through the SysV hash chain, at version LINUX_2.6.
static void *lookup(const char *name) {
    uint32_t nbucket = hash[0];
    const uint32_t *bucket = hash + 2, *chain = bucket + nbucket;
    int version = linux26();
    for (uint32_t i = bucket[elf_hash(name) % nbucket]; i != 0; i = chain[i]) {
        const Elf64_Sym *s = &symtab[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF) continue;
        if (strcmp(strtab + s->st_name, name) != 0 || (versym[i] & 0x7fff) != version) continue;
        return (void *)(load + s->st_value);
    }
    return NULL;
}

static long long ns(const struct timespec *ts) { return ts->tv_sec * 1000000000LL + ts->tv_nsec; }

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef int (*clock_getres_fn)(clockid_t, struct timespec *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);

// Calls every function under both names; prints key=value (when `print`) and returns the failures.
static int check(int print) {
    static const char *const names[] = {"clock_gettime", "gettimeofday", "time", "clock_getres", "getcpu"};
    void *fn[5][2];
    int failures = 0;
    for (int i = 0; i < 5; i++) {
        char prefixed[64];
        snprintf(prefixed, sizeof prefixed, "__vdso_%s", names[i]);
        fn[i][0] = lookup(prefixed);
        fn[i][1] = lookup(names[i]);
        if (print) printf("found_%s=%d alias_%s=%d\n", names[i], fn[i][0] != NULL, names[i], fn[i][1] == fn[i][0]);
        if (!fn[i][0] || fn[i][1] != fn[i][0]) failures++;
    }
    if (failures) return failures;
    // Each clock read through the vDSO brackets the system call's (the sentry's) reading.
    static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW,
                                       CLOCK_TAI, CLOCK_PROCESS_CPUTIME_ID};
    int ordered = 1;
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec a, s, b;
        if (((clock_gettime_fn)fn[0][0])(clocks[i], &a) != 0) ordered = 0;
        syscall(SYS_clock_gettime, clocks[i], &s);
        if (((clock_gettime_fn)fn[0][1])(clocks[i], &b) != 0) ordered = 0;
        if (!(ns(&a) <= ns(&s) && ns(&s) <= ns(&b)) || a.tv_nsec < 0 || a.tv_nsec >= 1000000000) {
            ordered = 0;
            if (print) printf("disorder clock=%d vdso=%lld syscall=%lld vdso_after=%lld\n", (int)clocks[i], ns(&a), ns(&s), ns(&b));
        }
    }
    struct timespec mono;
    ((clock_gettime_fn)fn[0][0])(CLOCK_MONOTONIC, &mono);
    for (int i = 0; i < 1000; i++) ((clock_gettime_fn)fn[0][0])(CLOCK_MONOTONIC, &mono);
    // gettimeofday and time: within the second of the syscall's realtime, the zone UTC.
    struct timeval tv, sys_tv;
    struct { int minuteswest, dsttime; } tz = {99, 99};
    int gtod = ((gettimeofday_fn)fn[1][0])(&tv, &tz);
    syscall(SYS_gettimeofday, &sys_tv, NULL);
    int gtod_null = ((gettimeofday_fn)fn[1][1])(NULL, NULL);
    long long gtod_diff = (sys_tv.tv_sec - tv.tv_sec) * 1000000LL + sys_tv.tv_usec - tv.tv_usec;
    time_t stored = 0, t = ((time_fn)fn[2][0])(&stored), sys_t = syscall(SYS_time, NULL), bare = ((time_fn)fn[2][1])(NULL);
    struct timespec res, sys_res;
    int getres = ((clock_getres_fn)fn[3][0])(CLOCK_MONOTONIC, &res);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &sys_res);
    unsigned cpu = 9999, node = 9999;
    int getcpu = ((getcpu_fn)fn[4][0])(&cpu, &node, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_CONF);

    int good_gtod = gtod == 0 && gtod_null == 0 && gtod_diff >= 0 && gtod_diff < 1000000 && tv.tv_usec < 1000000
                    && tz.minuteswest == 0 && tz.dsttime == 0;
    int good_time = t == stored && t <= sys_t && sys_t <= bare && bare - t <= 1;
    int good_getres = getres == 0 && res.tv_sec == sys_res.tv_sec && res.tv_nsec == sys_res.tv_nsec;
    int good_getcpu = getcpu == 0 && (long)cpu < cpus;
    if (print) {
        printf("clock_order=%d monotonic_ns=%lld realtime_s=%lld\n", ordered, ns(&mono), (long long)sys_tv.tv_sec);
        printf("gettimeofday=%d gettimeofday_diff_us=%lld tz=%d,%d\n", good_gtod, gtod_diff, tz.minuteswest, tz.dsttime);
        printf("time=%d time_s=%lld\n", good_time, (long long)t);
        printf("clock_getres=%d res_ns=%ld getcpu=%d cpu=%u\n", good_getres, res.tv_nsec, good_getcpu, cpu);
    }
    return !ordered + !good_gtod + !good_time + !good_getres + !good_getcpu;
}

int main(int argc, char **argv) {
    const unsigned char *base = (const void *)getauxval(AT_SYSINFO_EHDR);
    if (argc > 1 && strcmp(argv[1], "dump") == 0) {
        if (!base) return 1;
        const Elf64_Ehdr *eh = (const void *)base;
        const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
        size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
        for (int i = 0; i < eh->e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > size) size = ph[i].p_offset + ph[i].p_filesz;
        return fwrite(base, 1, size, stdout) == size ? 0 : 1;
    }
    printf("vdso=%d\n", base != NULL);
    if (!base) return 0;
    if (setup(base) != 0) { printf("parsed=0\n"); return 1; }
    printf("parsed=1 version=%d\n", linux26());
    int failures = check(1);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) _exit(check(0) == 0 ? 0 : 1);
    int status = -1;
    waitpid(child, &status, 0);
    printf("child=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    printf("failures=%d\n", failures);
    return failures != 0;
}
