// C the Swift side cannot express. Everything between fork and execve lives
// here and is async-signal-safe; the rest are thin wrappers over variadic or
// macro-only kernel interfaces.
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

#endif
