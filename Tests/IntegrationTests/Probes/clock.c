// The sandbox's clocks: monotonic from zero, realtime near the host's, no vDSO.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
    long long mono = ns(CLOCK_MONOTONIC), boot = ns(CLOCK_BOOTTIME), real = ns(CLOCK_REALTIME);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    for (int i = 0; i < 100; i++) ns(CLOCK_MONOTONIC);
    struct timespec req;
    clock_gettime(CLOCK_MONOTONIC, &req);
    long long before = ns(CLOCK_MONOTONIC);
    req.tv_nsec += 50000000;
    if (req.tv_nsec >= 1000000000) { req.tv_sec++; req.tv_nsec -= 1000000000; }
    int slept = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &req, NULL);
    long long after = ns(CLOCK_MONOTONIC);
    struct sysinfo info;
    sysinfo(&info);
    struct tms tms;
    clock_t ticks = times(&tms);
    printf("monotonic_ns=%lld\nboottime_ns=%lld\nrealtime_s=%lld\ngettimeofday_s=%ld\ntime_s=%ld\n",
           mono, boot, real / 1000000000LL, (long)tv.tv_sec, (long)t);
    printf("vdso=%lu\n", getauxval(AT_SYSINFO_EHDR));
    // Neither the vDSO's code nor its data pages (the host's clocks) stay mapped.
    int mapped = 0;
    char line[512];
    FILE *maps = fopen("/proc/self/maps", "r");
    while (maps && fgets(line, sizeof line, maps))
        if (strstr(line, "[vdso]") || strstr(line, "[vvar")) mapped++;
    printf("vdso_mappings=%d\n", mapped);
    // libc's clock_gettime (through a vDSO, if any) and the syscall agree and never go backwards.
    int disorder = 0;
    for (int i = 0; i < 1000; i++) {
        struct timespec a, b, c;
        clock_gettime(CLOCK_MONOTONIC, &a);
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
        clock_gettime(CLOCK_MONOTONIC, &c);
        long long x = a.tv_sec * 1000000000LL + a.tv_nsec, y = b.tv_sec * 1000000000LL + b.tv_nsec,
                  z = c.tv_sec * 1000000000LL + c.tv_nsec;
        if (x > y || y > z) disorder++;
    }
    printf("clock_disorder=%d\n", disorder);
    unsigned int low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    printf("tsc=%llu\n", ((unsigned long long)high << 32) | low);
    printf("abstime_sleep=%d slept_ms=%lld\n", slept, (after - before) / 1000000);
    printf("sysinfo_uptime=%ld times_ticks=%ld\n", info.uptime, (long)ticks);
    return 0;
}
