// This process's own executable in memory: fault-around off, pages dropped
// after start-up and after set-up, paged out when idle.
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
    uffd_feature_wp_async = 1ULL << 15,  // Linux 6.7: any memory may be registered for WP alone
    pagemap_present = 63,
    pagemap_file = 61,  // a page of the file, not this process's written copy
    page = 4096,
};

static int own_image_userfaultfd = -1;

int moat_own_image_userfaultfd(void) { return own_image_userfaultfd; }

struct segment_visit {
    void (*each)(unsigned long start, unsigned long end, bool writable, void *context);
    void *context;
};

// Visits the loaded segments of the program (the first object
// dl_iterate_phdr reports), page-aligned; returns 1 to stop there.
static int visit_program_segments(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    struct segment_visit *visit = context;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || segment->p_filesz == 0) continue;
        unsigned long start = (info->dlpi_addr + segment->p_vaddr) & ~(unsigned long)(page - 1);
        unsigned long end = (info->dlpi_addr + segment->p_vaddr + segment->p_filesz + page - 1) & ~(unsigned long)(page - 1);
        visit->each(start, end, segment->p_flags & PF_W, visit->context);
    }
    return 1;
}

static bool only_thread(void) {
    char stat[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) return false;
    stat[n] = 0;
    char *after_name = strrchr(stat, ')');
    long threads = 0;
    // After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt
    // majflt cmajflt utime stime cutime cstime priority nice num_threads.
    return after_name
        && sscanf(after_name + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld", &threads) == 1
        && threads == 1;
}

// The pages of [start, end) that are present and still the file's go, in
// runs; a page this process wrote (an anonymous copy) stays.
static void drop_file_pages(unsigned long start, unsigned long end, bool writable, void *context) {
    int pagemap = *(int *)context;
    if (writable && !only_thread()) return;
    uint64_t entries[512];
    for (unsigned long chunk = start; chunk < end; chunk += 512UL * page) {
        size_t pages = (end - chunk) / page < 512 ? (end - chunk) / page : 512;
        if (pread(pagemap, entries, pages * 8, (off_t)(chunk / page * 8)) != (ssize_t)(pages * 8)) return;
        unsigned long run = 0;
        for (size_t i = 0; i <= pages; i++) {
            bool file = i < pages && (entries[i] >> pagemap_present & 1) && (entries[i] >> pagemap_file & 1);
            unsigned long address = chunk + i * page;
            if (file && !run) run = address;
            if (!file && run) {
                madvise((void *)run, address - run, MADV_DONTNEED);
                run = 0;
            }
        }
    }
}

void moat_drop_own_image_pages(void) {
    int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap < 0) return;
    dl_iterate_phdr(visit_program_segments, &(struct segment_visit){ drop_file_pages, &pagemap });
    close(pagemap);
}

static void register_write_protect(unsigned long start, unsigned long end, bool writable, void *context) {
    (void)writable;
    struct uffdio_register range = { .range = { start, end - start }, .mode = UFFDIO_REGISTER_MODE_WP };
    if (ioctl(*(int *)context, UFFDIO_REGISTER, &range) < 0) *(int *)context = -1;
}

int moat_map_own_image_by_the_page(void) {
    // User-mode faults only: what an unprivileged process may have (rootless).
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) return -errno;
    errno = 0;
    struct uffdio_api api = { .api = UFFD_API, .features = uffd_feature_wp_async };
    int registered = -1;
    if (ioctl(fd, UFFDIO_API, &api) == 0 && (api.features & uffd_feature_wp_async)) {
        registered = fd;
        dl_iterate_phdr(visit_program_segments, &(struct segment_visit){ register_write_protect, &registered });
    }
    if (registered < 0) {
        int error = errno ? errno : EOPNOTSUPP;
        close(fd);
        return -error;
    }
    own_image_userfaultfd = fd;
    moat_drop_own_image_pages();
    return fd;
}

// First of all constructors (the Swift runtime's included): the process's one
// thread, and only the C library's start-up has run, with fault-around.
__attribute__((constructor(101))) static void map_own_image_by_the_page(void) { moat_map_own_image_by_the_page(); }

// Every segment, the writable one too: MADV_PAGEOUT only reclaims, so pages
// only read (most of .data and .rodata, which the linker puts in the
// writable segment) are dropped and fault back in, and pages written
// (anonymous copies) are swapped out or left.
static void page_out(unsigned long start, unsigned long end, bool writable, void *context) {
    (void)writable;
    if (madvise((void *)start, end - start, MADV_PAGEOUT) == 0) *(long *)context += (long)(end - start);
}

long moat_page_out_own_image(void) {
    long total = 0;
    dl_iterate_phdr(visit_program_segments, &(struct segment_visit){ page_out, &total });
    return total;
}
