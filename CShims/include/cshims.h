// C the Swift side cannot express. Everything between fork and execve lives
// here and is async-signal-safe; the rest are thin wrappers over variadic or
// macro-only kernel interfaces.
//
// Conventions, the same in every header:
// - A function returning int, long, ssize_t or pid_t returns a value >= 0
//   (0, a count, an fd, a pid) or -errno; never -1 with errno set. The few
//   that say otherwise in their comment are predicates (1 or 0), bit sets
//   (moat_poll_readable), lookups (-1: unknown) and the wait-status macros.
// - Pointers are non-null (each header is in an assume_nonnull region);
//   _Nullable marks those that may be NULL: an array whose count is 0, an
//   optional input or output, a struct field left zero. Swift sees the first
//   as non-optional, the rest as optionals.
#ifndef MOAT_CSHIMS_H
#define MOAT_CSHIMS_H


// One header per C file.
#include "child.h"
#include "trace.h"
#include "files.h"
#include "notify.h"
#include "filter.h"
#include "terminal.h"
#include "vdso.h"
#include "abi.h"
#include "image.h"

#endif
