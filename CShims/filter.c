// libseccomp's macros wrapped as functions, export to memory, and a small
// classic-BPF interpreter so tests can prove the exported program matches
// the syscall table.
#define _GNU_SOURCE
#include "cshims.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *moat_seccomp_new(uint32_t default_errno) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(default_errno));
    if (!ctx) return NULL;
    // libseccomp's default kills only the offending thread: an int $0x80 from a
    // second thread would leave the rest of the process running.
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

int moat_seccomp_add_trace(void *ctx, int nr, uint16_t data) {
    return seccomp_rule_add_array(ctx, SCMP_ACT_TRACE(data), nr, 0, NULL);
}
void *moat_seccomp_new_with_action(uint32_t default_action) {
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (!ctx) return NULL;
    if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) { seccomp_release(ctx); return NULL; }
    return ctx;
}

int moat_seccomp_add_rule(void *ctx, uint32_t action, int nr, uint32_t count, const struct moat_arg_cmp *cmps) {
    struct scmp_arg_cmp converted[6];
    if (count > 6) return -EINVAL;
    for (uint32_t i = 0; i < count; i++) {
        converted[i].arg = cmps[i].index;
        converted[i].op = (enum scmp_compare)cmps[i].op;
        converted[i].datum_a = cmps[i].a;
        converted[i].datum_b = cmps[i].b;
    }
    return seccomp_rule_add_array(ctx, action, nr, count, converted);
}

int moat_seccomp_add_notify(void *ctx, int nr) {
    return seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, nr, 0, NULL);
}
int moat_seccomp_add_allow(void *ctx, int nr) {
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 0, NULL);
}
int moat_seccomp_add_errno(void *ctx, int nr, uint16_t err) {
    return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(err), nr, 0, NULL);
}

int moat_seccomp_add_masked(void *ctx, int nr, int arg, uint64_t mask, uint16_t err) {
    struct scmp_arg_cmp allow = { (unsigned)arg, SCMP_CMP_MASKED_EQ, mask, 0 };
    int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &allow);
    for (int bit = 0; rc == 0 && bit < 64; bit++) {
        uint64_t one = 1ULL << bit;
        if (!(mask & one)) continue;
        struct scmp_arg_cmp refuse = { (unsigned)arg, SCMP_CMP_MASKED_EQ, one, one };
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(err), nr, 1, &refuse);
    }
    return rc;
}

// ALLOW rules for every x whose (x & mask) is none of `values`, as disjoint
// prefixes of mask's bits (high to low): where the values' binary trie has
// no child, one rule covers that whole subtree. libseccomp does not order
// overlapping rules (an always-true ALLOW swallowed the refusals), so no
// input may match two of them. At most one rule per mask bit and value.
static int allow_complement(void *ctx, int nr, int arg, uint64_t mask, const uint64_t *values, int count,
                            uint64_t prefix_mask, uint64_t prefix, int bit) {
    while (bit >= 0 && !(mask & (1ULL << bit))) bit--;
    if (bit < 0) return 0;   // every bit fixed: this is one of the refused values
    uint64_t one = 1ULL << bit;
    for (int side = 0; side < 2; side++) {
        uint64_t branch = prefix | (side ? one : 0);
        int refused_below = 0;
        for (int i = 0; i < count; i++) refused_below |= (values[i] & (prefix_mask | one)) == branch;
        int rc;
        if (refused_below) {
            rc = allow_complement(ctx, nr, arg, mask, values, count, prefix_mask | one, branch, bit - 1);
        } else {
            struct scmp_arg_cmp cmp = { (unsigned)arg, SCMP_CMP_MASKED_EQ, prefix_mask | one, branch };
            rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
        }
        if (rc < 0) return rc;
    }
    return 0;
}

int moat_seccomp_add_allow_except(void *ctx, int nr, int arg, uint64_t mask, const uint64_t *values, int count,
                                  uint16_t err) {
    for (int i = 0; i < count; i++) {
        struct scmp_arg_cmp refuse = { (unsigned)arg, SCMP_CMP_MASKED_EQ, mask, values[i] & mask };
        int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(err), nr, 1, &refuse);
        if (rc < 0) return rc;
    }
    return allow_complement(ctx, nr, arg, mask, values, count, 0, 0, 63);
}

int moat_seccomp_add_allow_if_zero(void *ctx, int nr, int arg, int notify) {
    struct scmp_arg_cmp zero = { (unsigned)arg, SCMP_CMP_EQ, 0, 0 };
    int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &zero);
    if (rc < 0) return rc;
    struct scmp_arg_cmp other = { (unsigned)arg, SCMP_CMP_NE, 0, 0 };
    return seccomp_rule_add_array(ctx, notify ? SCMP_ACT_NOTIFY : SCMP_ACT_TRACE((uint16_t)nr), nr, 1, &other);
}

long moat_seccomp_export(void *ctx, void **program) {
    int fd = memfd_create("moat-bpf", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) { close(fd); return rc; }
    off_t size = lseek(fd, 0, SEEK_END);
    char *buffer = malloc((size_t)size);
    if (!buffer) { close(fd); return -ENOMEM; }
    ssize_t got = pread(fd, buffer, (size_t)size, 0);
    close(fd);
    if (got != size) { free(buffer); return -EIO; }
    *program = buffer;
    return size / (long)sizeof(struct sock_filter);
}

void moat_seccomp_release(void *ctx) { seccomp_release(ctx); }

int moat_syscall_number(const char *name) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
    return nr == __NR_SCMP_ERROR ? -1 : nr;
}

char *moat_syscall_name(int nr) { return seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr); }

uint32_t moat_bpf_evaluate(const void *program, size_t count, uint32_t arch, int nr, const uint64_t *args) {
    struct seccomp_data data = { .nr = nr, .arch = arch, .instruction_pointer = 0 };
    for (int i = 0; i < 6; i++) data.args[i] = args ? args[i] : 0;
    const struct sock_filter *code = program;
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
    for (size_t pc = 0; pc < count; pc++) {
        const struct sock_filter *ins = &code[pc];
        uint32_t src = BPF_SRC(ins->code) == BPF_X ? x : ins->k;
        switch (BPF_CLASS(ins->code)) {
        case BPF_LD:
            if (BPF_MODE(ins->code) == BPF_ABS) {
                if (ins->k + 4 > sizeof data) return SECCOMP_RET_KILL_PROCESS;
                memcpy(&a, (const char *)&data + ins->k, 4);
            } else if (BPF_MODE(ins->code) == BPF_IMM) a = ins->k;
            else if (BPF_MODE(ins->code) == BPF_MEM) a = mem[ins->k & 15];
            else if (BPF_MODE(ins->code) == BPF_LEN) a = sizeof data;
            break;
        case BPF_LDX:
            if (BPF_MODE(ins->code) == BPF_IMM) x = ins->k;
            else if (BPF_MODE(ins->code) == BPF_MEM) x = mem[ins->k & 15];
            else if (BPF_MODE(ins->code) == BPF_LEN) x = sizeof data;
            break;
        case BPF_ST: mem[ins->k & 15] = a; break;
        case BPF_STX: mem[ins->k & 15] = x; break;
        case BPF_ALU:
            switch (BPF_OP(ins->code)) {
            case BPF_ADD: a += src; break;
            case BPF_SUB: a -= src; break;
            case BPF_MUL: a *= src; break;
            case BPF_DIV: if (!src) return SECCOMP_RET_KILL_PROCESS; a /= src; break;
            case BPF_AND: a &= src; break;
            case BPF_OR: a |= src; break;
            case BPF_XOR: a ^= src; break;
            case BPF_LSH: a <<= src; break;
            case BPF_RSH: a >>= src; break;
            case BPF_NEG: a = -a; break;
            }
            break;
        case BPF_JMP: {
            int taken;
            switch (BPF_OP(ins->code)) {
            case BPF_JA: pc += ins->k; continue;
            case BPF_JEQ: taken = a == src; break;
            case BPF_JGT: taken = a > src; break;
            case BPF_JGE: taken = a >= src; break;
            case BPF_JSET: taken = (a & src) != 0; break;
            default: return SECCOMP_RET_KILL_PROCESS;
            }
            pc += taken ? ins->jt : ins->jf;
            break;
        }
        case BPF_RET: return BPF_RVAL(ins->code) == BPF_A ? a : ins->k;
        case BPF_MISC: if (BPF_MISCOP(ins->code) == BPF_TAX) x = a; else a = x; break;
        }
    }
    return SECCOMP_RET_KILL_PROCESS;
}

int moat_seccomp_add_masked_values(void *ctx, int nr, int arg, uint64_t mask, int trace,
                                   const uint64_t *values, int count, int unless_zero) {
    uint32_t action = trace ? SCMP_ACT_TRACE((uint16_t)nr) : SCMP_ACT_ALLOW;
    for (int i = 0; i < count; i++) {
        struct scmp_arg_cmp cmp[2] = {
            { (unsigned)arg, SCMP_CMP_MASKED_EQ, mask, values[i] },
            { (unsigned)unless_zero, SCMP_CMP_NE, 0, 0 },
        };
        int rc = seccomp_rule_add_array(ctx, action, nr, unless_zero >= 0 ? 2 : 1, cmp);
        if (rc < 0) return rc;
        if (unless_zero >= 0) {
            // The same value with that argument 0: allowed (no overlap with the rule above).
            cmp[1].op = SCMP_CMP_EQ;
            rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 2, cmp);
            if (rc < 0) return rc;
        }
    }
    return 0;
}
