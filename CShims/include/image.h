// This process's own executable in memory: how much of it stays mapped.
#ifndef MOAT_IMAGE_H
#define MOAT_IMAGE_H

#pragma clang assume_nonnull begin

// Before main, a constructor registers the program's loaded segments with a
// userfaultfd in asynchronous write-protect mode, which nothing ever
// write-protects: its one effect is that the kernel no longer maps the 16
// pages around each page fault there ("fault-around"). The supervisor's code
// is scattered over 8 MiB, so most of those would be code it never runs.
// Then the pages the C library's start-up mapped are dropped (as by
// moat_drop_own_image_pages). The userfaultfd, or -1 where the kernel cannot
// (before 6.7) or its seccomp filter forbids userfaultfd. Closing it undoes this.
int moat_own_image_userfaultfd(void);

// Does the same again, for a child after fork (it does not inherit the
// registration): the new userfaultfd (the old one is the caller's to close),
// or -errno.
int moat_map_own_image_by_the_page(void);

// Unmaps every page of the executable's segments that is still the file's
// (never written by this process): it comes back from the page cache when
// next touched, a page at a time. The writable segment only while this is
// the process's one thread, so that no page is written meanwhile.
void moat_drop_own_image_pages(void);

// madvise(MADV_PAGEOUT) over the executable's segments: the bytes advised.
long moat_page_out_own_image(void);

#pragma clang assume_nonnull end

#endif
