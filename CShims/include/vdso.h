// CShims/vdso.c: the sentry vDSO's code (vdso.S).
#ifndef MOAT_VDSO_H
#define MOAT_VDSO_H

#include <stdint.h>
#include <stddef.h>

#pragma clang assume_nonnull begin

// The sentry vDSO's code (vdso.S), never run by Moat itself: its bytes and
// length, and where each exported function starts in it.
enum moat_vdso_function {
    MOAT_VDSO_CLOCK_GETTIME, MOAT_VDSO_GETTIMEOFDAY, MOAT_VDSO_TIME,
    MOAT_VDSO_CLOCK_GETRES, MOAT_VDSO_GETCPU, MOAT_VDSO_FUNCTIONS
};

const uint8_t *moat_vdso_code(size_t *length);
size_t moat_vdso_function_offset(enum moat_vdso_function function);

#pragma clang assume_nonnull end

#endif
