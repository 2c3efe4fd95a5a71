// CShims/filter.c: seccomp programs built with libseccomp, and the BPF interpreter the tests prove them with.
#ifndef MOAT_FILTER_H
#define MOAT_FILTER_H

#include <stdint.h>
#include <stddef.h>

#pragma clang assume_nonnull begin

int moat_seccomp_add_notify(void *ctx, int nr);

// A filter from a config's own profile: any SECCOMP_RET_* action, rules with
// argument comparisons (op: libseccomp's SCMP_CMP_* values).
struct moat_arg_cmp {
    uint32_t index;
    uint32_t op;
    uint64_t a;
    uint64_t b;
};

void *_Nullable moat_seccomp_new_with_action(uint32_t default_action);   // NULL: out of memory
int moat_seccomp_add_rule(void *ctx, uint32_t action, int nr, uint32_t count, const struct moat_arg_cmp *_Nullable cmps);
void *_Nullable moat_seccomp_new(uint32_t default_errno);
int moat_seccomp_add_trace(void *ctx, int nr, uint16_t data);
int moat_seccomp_add_allow(void *ctx, int nr);
int moat_seccomp_add_errno(void *ctx, int nr, uint16_t err);

// Allow when (arg & mask) == 0; otherwise errno for each bit of mask.
int moat_seccomp_add_masked(void *ctx, int nr, int arg, uint64_t mask, uint16_t err);

// Allow when the whole 64-bit argument is 0; otherwise trace (data nr) or notify.
int moat_seccomp_add_allow_if_zero(void *ctx, int nr, int arg, int notify);

// Allow, except errno when (arg & mask) is one of `values`.
int moat_seccomp_add_allow_except(void *ctx, int nr, int arg, uint64_t mask, const uint64_t *_Nullable values, int count,
                                  uint16_t err);

// Trace (or allow) `nr` when (arg & mask) equals one of `values`; with
// `unless_zero` >= 0, a trace only while that argument is not 0 (allowed when 0).
int moat_seccomp_add_masked_values(void *ctx, int nr, int arg, uint64_t mask, int trace,
                                   const uint64_t *_Nullable values, int count, int unless_zero);

// Exports the BPF program into a malloc'd buffer; returns the instruction count or -errno.
long moat_seccomp_export(void *ctx, void *_Nullable *_Nonnull program);
void moat_seccomp_release(void *ctx);
int moat_syscall_number(const char *name);       // -1 when libseccomp does not know it
char *_Nullable moat_syscall_name(int nr);        // malloc'd, NULL when unknown

// Decodes one BPF program against (arch, nr): returns the SECCOMP_RET_* value.
// Used by tests to prove the filter and the table agree.
uint32_t moat_bpf_evaluate(const void *_Nullable program, size_t count, uint32_t arch, int nr, const uint64_t *args);

#pragma clang assume_nonnull end

#endif
