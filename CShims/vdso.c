// Where the sentry vDSO's code (vdso.S) lies in Moat's own image.
#include "cshims.h"

extern const uint8_t moat_vdso_start[], moat_vdso_end[];
extern const uint8_t moat_vdso_clock_gettime[], moat_vdso_gettimeofday[], moat_vdso_time[],
    moat_vdso_clock_getres[], moat_vdso_getcpu[];

const uint8_t *moat_vdso_code(size_t *length) {
    *length = (size_t)(moat_vdso_end - moat_vdso_start);
    return moat_vdso_start;
}

size_t moat_vdso_function_offset(enum moat_vdso_function function) {
    static const uint8_t *const starts[MOAT_VDSO_FUNCTIONS] = {
        moat_vdso_clock_gettime, moat_vdso_gettimeofday, moat_vdso_time,
        moat_vdso_clock_getres, moat_vdso_getcpu,
    };
    return (size_t)(starts[function] - moat_vdso_start);
}
