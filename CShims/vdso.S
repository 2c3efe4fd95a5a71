// The code of the sentry's vDSO (see Sources/Sentry/SentryVDSO.swift). Moat
// never runs it: the bytes between moat_vdso_start and moat_vdso_end are
// copied into each new program, at offset 0xc00 of the image, one page below
// the read-only data page the sentry writes:
//
//   data+0x00  the host vDSO's __vdso_clock_gettime in the tracee
//   data+0x08  the sandbox's base of clocks 0...11 (0: the host's clock as is)
//   data+0x68  the host vDSO's __vdso_clock_getres (0: none, make the syscall)
//   data+0x70  the host vDSO's __vdso_getcpu (0: none, make the syscall)
//
// Position-independent: every reference is rip-relative within the image.
// Each function keeps the SysV ABI (a 16-byte aligned stack at each call).

    .section .rodata.moat_vdso, "a", @progbits
    .balign 16
    .globl moat_vdso_start, moat_vdso_end
    .globl moat_vdso_clock_gettime, moat_vdso_gettimeofday, moat_vdso_time
    .globl moat_vdso_clock_getres, moat_vdso_getcpu
    .hidden moat_vdso_start, moat_vdso_end
    .hidden moat_vdso_clock_gettime, moat_vdso_gettimeofday, moat_vdso_time
    .hidden moat_vdso_clock_getres, moat_vdso_getcpu

moat_vdso_start:
    .set data, moat_vdso_start + 0x400
    .set host_clock_gettime, data
    .set clock_bases, data + 0x08
    .set host_clock_getres, data + 0x68
    .set host_getcpu, data + 0x70

// int clock_gettime(clockid_t id, struct timespec *tp): the host's reading
// minus the clock's base, normalised. CPU-time clocks (negative ids), unknown
// ids and clocks with base 0 go to the host's function as they are.
moat_vdso_clock_gettime:
    mov     host_clock_gettime(%rip), %rax
    cmp     $11, %edi
    ja      1f
    lea     clock_bases(%rip), %rcx
    movslq  %edi, %rdx
    mov     (%rcx,%rdx,8), %rdx
    test    %rdx, %rdx
    jz      1f
    push    %rsi
    push    %rdx
    sub     $8, %rsp
    call    *%rax
    add     $8, %rsp
    pop     %rdx
    pop     %rsi
    test    %eax, %eax
    jnz     2f
    mov     (%rsi), %rcx
    imul    $1000000000, %rcx, %rcx
    add     8(%rsi), %rcx
    sub     %rdx, %rcx                  // virtual = host - base
    mov     %rcx, %rax
    mov     $1000000000, %r8
    cqo
    idiv    %r8
    test    %rdx, %rdx
    jns     3f
    add     %r8, %rdx
    dec     %rax
3:  mov     %rax, (%rsi)
    mov     %rdx, 8(%rsi)
    xor     %eax, %eax
2:  ret
1:  jmp     *%rax

// int gettimeofday(struct timeval *tv, struct timezone *tz): the sandbox's
// CLOCK_REALTIME in microseconds; the time zone is UTC, as the sentry's
// gettimeofday answers. Falls back to the system call (served by the sentry).
moat_vdso_gettimeofday:
    push    %rdi                        // tv at 32(%rsp)
    push    %rsi                        // tz at 24(%rsp)
    sub     $24, %rsp                   // a timespec at (%rsp)
    test    %rdi, %rdi
    jz      1f
    xor     %edi, %edi                  // CLOCK_REALTIME
    mov     %rsp, %rsi
    call    moat_vdso_clock_gettime
    test    %eax, %eax
    jnz     4f
    mov     32(%rsp), %rdi
    mov     (%rsp), %rax
    mov     %rax, (%rdi)
    mov     8(%rsp), %rax
    xor     %edx, %edx
    mov     $1000, %ecx
    div     %rcx
    mov     %rax, 8(%rdi)
1:  mov     24(%rsp), %rsi
    test    %rsi, %rsi
    jz      2f
    movq    $0, (%rsi)                  // tz_minuteswest = tz_dsttime = 0
2:  xor     %eax, %eax
    add     $24, %rsp
    pop     %rsi
    pop     %rdi
    ret
4:  add     $24, %rsp
    pop     %rsi
    pop     %rdi
    mov     $96, %eax                   // SYS_gettimeofday
    syscall
    ret

// time_t time(time_t *t): the sandbox's CLOCK_REALTIME in seconds.
moat_vdso_time:
    push    %rdi                        // t at 16(%rsp)
    sub     $16, %rsp                   // a timespec at (%rsp)
    xor     %edi, %edi                  // CLOCK_REALTIME
    mov     %rsp, %rsi
    call    moat_vdso_clock_gettime
    test    %eax, %eax
    jnz     4f
    mov     (%rsp), %rax
    add     $16, %rsp
    pop     %rdi
    test    %rdi, %rdi
    jz      1f
    mov     %rax, (%rdi)
1:  ret
4:  add     $16, %rsp
    pop     %rdi
    mov     $201, %eax                  // SYS_time
    syscall
    ret

// int clock_getres(clockid_t id, struct timespec *res): a base does not
// change a clock's resolution, so the host's answer is the sandbox's.
moat_vdso_clock_getres:
    mov     host_clock_getres(%rip), %rax
    test    %rax, %rax
    jz      1f
    jmp     *%rax
1:  mov     $229, %eax                  // SYS_clock_getres
    syscall
    ret

// int getcpu(unsigned *cpu, unsigned *node, void *cache): the host's.
moat_vdso_getcpu:
    mov     host_getcpu(%rip), %rax
    test    %rax, %rax
    jz      1f
    jmp     *%rax
1:  mov     $309, %eax                  // SYS_getcpu
    syscall
    ret
moat_vdso_end:

    .section .note.GNU-stack, "", @progbits
